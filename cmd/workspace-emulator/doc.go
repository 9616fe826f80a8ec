// Command workspace-emulator serves the Databricks workspace emulator of
// internal/emulator on loopback for local use, demos and end-to-end tests.
//
//	workspace-emulator [-addr 127.0.0.1:0] [-latency DURATION] [-fault-rate P] [-seed N] [-rate-limit RPS] [-tokens a,b] [-allow-remote]
//
// It prints "listening on http://HOST:PORT" as its first line once it accepts
// connections and serves until SIGINT or SIGTERM. It owns only flag parsing
// and the listener; emulated behaviour lives in internal/emulator.
package main
