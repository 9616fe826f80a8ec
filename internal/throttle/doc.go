// Package throttle paces a Databricks client by what the workspace says.
//
// A workspace limits how fast one client may call it and answers calls over
// the limit with HTTP 429, often with a Retry-After header. databricks-sdk-go
// retries a 429 itself, but only after its own back-off of at least a second
// per attempt, and it paces every request with a fixed client-side rate
// limit (15 requests per second unless configured). [Transport] sits below
// the SDK instead: it holds every request back until a Retry-After has
// passed, resends a throttled request itself once it has, and bounds the
// requests in flight with an additive-increase, multiplicative-decrease
// window, so that parallel uploads run as fast as the workspace admits them
// and slow down together when it says so.
//
// The package only wraps an http.RoundTripper: it knows nothing of bundles,
// deploys or the environment. internal/workspace installs it in the SDK client.
package throttle
