package lint

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"testing"

	"github.com/rhysd/actionlint"
)

// actionlintCorpus returns the real-world workflow files actionlint ships as
// test data in its module, or skips the benchmark when the module source is
// not on disk.
func actionlintCorpus(b *testing.B) (string, []string) {
	b.Helper()
	version := "v1.7.12"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/rhysd/actionlint" {
				version = d.Version
			}
		}
	}
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			b.Skip("no home directory to find the module cache in")
		}
		modcache = filepath.Join(home, "go", "pkg", "mod")
	}
	root := filepath.Join(modcache, "github.com", "rhysd", "actionlint@"+version, "testdata")
	var files []string
	for _, sub := range []string{"examples", "ok", "realworld"} {
		m, _ := filepath.Glob(filepath.Join(root, sub, "*.yaml"))
		files = append(files, m...)
		m, _ = filepath.Glob(filepath.Join(root, sub, "*.yml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		b.Skipf("actionlint test data not found under %s", root)
	}
	sort.Strings(files)
	return root, files
}

// BenchmarkLint lints actionlint's corpus with raw actionlint and with
// brickci (actionlint plus brickci's rules in the same pass); the ratio of
// the two is the cost of brickci's rules.
func BenchmarkLint(b *testing.B) {
	root, files := actionlintCorpus(b)
	b.Run("actionlint", func(b *testing.B) {
		proj, err := actionlint.NewProject(root)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{WorkingDir: root})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := l.LintFiles(files, proj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("brickci", func(b *testing.B) {
		for b.Loop() {
			if _, err := Run(context.Background(), Options{Root: root, Paths: files, LookPath: noTools}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
