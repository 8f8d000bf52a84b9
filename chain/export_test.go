package chain

// The heaviest-block record, for the external tests.
var (
	ReadHeaviest  = readHeaviest
	WriteHeaviest = writeHeaviest
)
