package miner

import (
	"runtime"
	"syscall"

	"github.com/ethereum/go-ethereum/log"
)

// devMinerNice is the nice value of the dev miner's thread. At 10 the
// kernel gives a busy nice-0 thread about nine times its share of a
// contended core, so requests are served first and the miner seals from
// what is left; an idle machine runs it at once all the same.
const devMinerNice = 10

// backgroundThread locks the calling goroutine to its OS thread and lowers
// that thread's priority to devMinerNice. Linux keeps a nice value per
// thread (setpriority(2), "BUGS"), so the node's other threads keep
// theirs. The goroutine never unlocks, so its thread never returns to Go's
// pool at the lower priority: Go ends it with the goroutine (or parks it
// for good, if it is the main thread).
func backgroundThread() {
	runtime.LockOSThread()
	// An operator who started the node nicer than this keeps that: raising
	// a priority needs privilege, and the error only says so.
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), devMinerNice); err != nil {
		log.Debug("Dev miner keeps its thread priority", "err", err)
	}
}
