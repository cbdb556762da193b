//go:build race

package ferry_test

// race: the race detector is on, and allocates.
const race = true
