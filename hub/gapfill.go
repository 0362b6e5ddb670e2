//go:build !soakbroken

package hub

// skipGaps is false in every real build. The soak's deliberately broken
// build (tag soakbroken) sets it, so that a room skips over missing
// events instead of reading them from the log: the soak's checker must
// catch that build, which shows it can.
const skipGaps = false
