package bundle

import (
	"testing"

	"github.com/brickci/brickci/internal/diag"
)

// TestExampleBundle validates the repository's example project for every
// target it defines: it must load without errors.
func TestExampleBundle(t *testing.T) {
	t.Parallel()
	// The example is part of the repository: a missing or renamed root
	// file must fail here, not skip.
	const dir = "../../examples/rag-chatbot"
	b, _, err := Load(LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{""}
	if b != nil && len(b.Targets) > 0 {
		targets = b.Targets
	}
	for _, target := range targets {
		b, l, err := Load(LoadOptions{Dir: dir, Target: target})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range l {
			t.Logf("%s: %s", target, f)
		}
		if b == nil || l.AtLeast(diag.Error) {
			t.Errorf("target %q: want no errors", target)
		}
	}
}
