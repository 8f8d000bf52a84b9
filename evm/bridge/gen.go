package bridge

//go:generate go run ./internal/gencontracts
