// Command brickci is the brickci GitHub Action and command-line tool: one
// binary whose modes lint, validate, plan, test, deploy, run, destroy and
// generate a Databricks bundle's CI/CD.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
