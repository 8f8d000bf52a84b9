// Package rss reads the resident set size of the running process, for tests
// that report memory before and after an attack.
package rss

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
)

// Current returns the process's resident set size in bytes, from
// /proc/self/status (Linux only; elsewhere it returns an error).
func Current() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("rss: no VmRSS line in /proc/self/status")
}

// MB is Current in mebibytes, or -1 if it cannot be read, for log lines.
func MB() int64 {
	n, err := Current()
	if err != nil {
		return -1
	}
	return n >> 20
}
