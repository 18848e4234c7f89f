//go:build !unix

package data

// openNonblock is zero where there are no FIFOs to open by a path that was a regular file.
const openNonblock = 0
