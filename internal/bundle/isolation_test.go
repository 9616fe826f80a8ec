package bundle

import (
	"errors"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/diag"
)

// TestIsolationNamesAndSchedules checks that an isolated load makes job and
// serving endpoint names its own and pauses schedules, and that a load
// without a name pauses schedules but keeps the names.
func TestIsolationNamesAndSchedules(t *testing.T) {
	t.Parallel()
	u := NewUser("someone@example.com")
	load := func(iso *Isolation) *Bundle {
		t.Helper()
		b, l, err := Load(LoadOptions{Dir: "testdata/good/mlops", Target: "staging", CurrentUser: &u, Isolate: iso})
		if err != nil || l.AtLeast(diag.Error) {
			t.Fatalf("load: %v %v", err, l)
		}
		return b
	}
	plain, named, unnamed := load(nil), load(&Isolation{Name: "pr.42"}), load(&Isolation{})
	if len(plain.Jobs) == 0 || len(plain.ServingEndpoints) == 0 {
		t.Fatalf("the test bundle needs jobs and serving endpoints, has %d and %d", len(plain.Jobs), len(plain.ServingEndpoints))
	}
	paused := 0
	for k, j := range plain.Jobs {
		if got, want := named.Jobs[k].Config["name"], "[pr.42] "+j.Config["name"].(string); got != want {
			t.Errorf("job %s: isolated name %q, want %q", k, got, want)
		}
		if got := unnamed.Jobs[k].Config["name"]; got != j.Config["name"] {
			t.Errorf("job %s: name %q without an isolation name, want %q", k, got, j.Config["name"])
		}
		for _, b := range []*Bundle{named, unnamed} {
			if s, ok := b.Jobs[k].Config["schedule"].(map[string]any); ok {
				paused++
				if s["pause_status"] != "PAUSED" {
					t.Errorf("job %s: schedule %v is not paused", k, s)
				}
			}
		}
	}
	if paused == 0 {
		t.Error("no job of the test bundle has a schedule")
	}
	for k, e := range plain.ServingEndpoints {
		got := named.ServingEndpoints[k].Config["name"].(string)
		if want := e.Config["name"].(string) + "-pr-42"; got != want && !(len(got) == 63 && strings.HasSuffix(got, "-pr-42")) {
			t.Errorf("endpoint %s: isolated name %q, want %q", k, got, want)
		}
	}
}

// TestIsolationNameChecked checks that a name that is not one short path
// segment is refused before anything is read.
func TestIsolationNameChecked(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../escape", "a/b", ".hidden", strings.Repeat("x", 41)} {
		_, _, err := Load(LoadOptions{Dir: "testdata/does-not-exist", Isolate: &Isolation{Name: name}})
		var ie *IsolationError
		if !errors.As(err, &ie) || ie.Name != name {
			t.Errorf("isolation %q: error %v, want an IsolationError", name, err)
		}
	}
	if _, _, err := Load(LoadOptions{Dir: "testdata/good/mlops", Target: "staging", Isolate: &Isolation{Name: strings.Repeat("x", 40)}}); err != nil {
		t.Errorf("a 40-character name: %v", err)
	}
}
