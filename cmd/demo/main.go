// Command demo plays the example project's whole CI/CD pipeline offline
// against the workspace emulator and writes a report. Run it with
// "make demo", which builds the binaries first.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/brickci/brickci/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory holding brickci and workspace-emulator")
	bundle := fs.String("bundle", "examples/rag-chatbot", "bundle directory, relative to the repository root")
	out := fs.String("report", filepath.Join("bin", "demo-report"), "directory for the report")
	taskDuration := fs.Duration("task-duration", 300*time.Millisecond, "how long each emulated task runs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 2
	}
	absBin, _ := filepath.Abs(*bin)
	absOut, _ := filepath.Abs(*out)
	start := time.Now()
	res, err := demo.Run(ctx, demo.Options{Root: root, Bin: absBin, Bundle: *bundle, ReportDir: absOut, Out: os.Stdout, TaskDuration: *taskDuration, Getenv: os.Getenv})
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		if res == nil {
			return 2
		}
		return 1
	}
	passed, failed, skipped := 0, 0, 0
	for _, s := range res.Stages {
		switch s.Status {
		case "passed":
			passed++
		case "failed":
			failed++
		default:
			skipped++
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped in %s (%d workspace API requests)\n", passed, failed, skipped, time.Since(start).Round(100*time.Millisecond), res.Requests)
	fmt.Printf("report: %s\n        %s\n", res.HTML, res.Markdown)
	if res.Failed() {
		return 1
	}
	return 0
}
