package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/brickci/brickci/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves the emulator until ctx is done and returns the exit code:
// 0 after a clean shutdown, 1 when serving failed, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workspace-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	latency := fs.Duration("latency", 0, "latency added to every API request")
	faultRate := fs.Float64("fault-rate", 0, "probability in [0, 1] of a 429 or 503 fault per API request")
	seed := fs.Uint64("seed", 0, "seed of the fault generator")
	rateLimit := fs.Float64("rate-limit", 0, "API requests per second each workspace admits before answering 429 with Retry-After (0: no limit)")
	tokens := fs.String("tokens", "", "comma-separated personal access tokens to accept (default: any)")
	allowRemote := fs.Bool("allow-remote", false, "allow listening on a non-loopback address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := checkLoopback(*addr, *allowRemote); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var allowed []string
	for _, t := range strings.Split(*tokens, ",") {
		if t = strings.TrimSpace(t); t != "" {
			allowed = append(allowed, t)
		}
	}
	srv := emulator.NewWithOptions(emulator.Options{Tokens: allowed})
	if err := srv.Configure(emulator.Config{Latency: *latency, FaultRate: *faultRate, Seed: *seed, RateLimit: *rateLimit}); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "failed to listen on %q: %v\n", *addr, err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "failed to serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "failed to shut down: %v\n", err)
		return 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "failed to serve: %v\n", err)
		return 1
	}
	return 0
}

// checkLoopback refuses addresses that are not loopback unless allowed.
func checkLoopback(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not loopback, use 127.0.0.1 or pass -allow-remote", addr)
	}
	return nil
}
