package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/databricks/databricks-sdk-go/logger"
)

func main() {
	// The SDK logs warnings (for example a host without a metadata
	// endpoint) with the standard logger on stderr, which would land in the
	// middle of --format json when streams are merged. Its failures reach
	// brickci as errors, so only its error level is kept.
	logger.DefaultLogger = &logger.SimpleLogger{Level: logger.LevelError}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
