package emulator

import (
	"math"
	"time"
)

// bucket is a token bucket that admits requests of one workspace at
// Config.RateLimit per second, with a burst of one second's worth.
type bucket struct {
	tokens float64
	last   time.Time
}

// throttleLocked decides whether the request of workspace key at now is
// over the configured rate. It returns 0 when the request is admitted and
// otherwise the whole seconds to announce in Retry-After: the time until
// the bucket holds a token again, at least one second, as HTTP counts it.
func (s *Server) throttleLocked(key string, now time.Time) int {
	rate := s.cfg.RateLimit
	if rate <= 0 {
		return 0
	}
	burst := math.Max(1, math.Ceil(rate))
	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		s.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	wait := (1 - b.tokens) / rate
	return max(1, int(math.Ceil(wait)))
}
