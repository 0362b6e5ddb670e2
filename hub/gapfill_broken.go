//go:build soakbroken

package hub

// skipGaps: see gapfill.go. Never set in a build that ships.
const skipGaps = true
