package bundle

import (
	"errors"
	"fmt"
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

// TestIsolationOfEveryType loads the example bundle as a test deployment:
// the experiment, the Unity Catalog model and the endpoint's inference
// table get names of their own, what refers to them (the endpoint serving
// the model, the job's parameters, the monitor of the inference table)
// follows, and a monitor of a table every deployment shares is left out
// with a warning.
func TestIsolationOfEveryType(t *testing.T) {
	t.Parallel()
	u := NewUser("someone@example.com")
	b, l, err := Load(LoadOptions{Dir: "../../examples/rag-chatbot", Target: "test", CurrentUser: &u, Isolate: &Isolation{Name: "pr-7"}})
	if err != nil || l.AtLeast(diag.Error) {
		t.Fatalf("load: %v %v", err, l)
	}
	got := map[string]map[string]any{}
	for _, r := range b.Resources {
		got[r.Type+"."+r.Key] = r.Config
	}
	for key, want := range map[string]string{
		"experiments.experiment":             "/Shared/rag_chatbot/[pr-7] test-experiment",
		"registered_models.model":            "rag_chatbot_model_pr_7",
		"quality_monitors.inference_monitor": "",
	} {
		cfg := got[key]
		field := "name"
		if want == "" {
			field, want = "table_name", "test.rag.rag_chatbot_pr_7_payload"
		}
		if cfg[field] != want {
			t.Errorf("%s: %s %v, want %q", key, field, cfg[field], want)
		}
	}
	ep := b.ServingEndpoints["rag_chatbot_endpoint"].Config
	served := ep["config"].(map[string]any)["served_entities"].([]any)[0].(map[string]any)
	if served["entity_name"] != "test.rag.rag_chatbot_model_pr_7" {
		t.Errorf("the endpoint serves %v, want the isolated model", served["entity_name"])
	}
	if s := fmt.Sprint(b.Jobs["model_workflow"].Config); !strings.Contains(s, "test.rag.rag_chatbot_model_pr_7") || !strings.Contains(s, "[pr-7] test-experiment") {
		t.Errorf("the job's parameters do not follow the isolated model and experiment: %s", s)
	}

	// A monitor of a table no endpoint of the bundle makes is shared.
	dir := writeBundle(t, map[string]string{"databricks.yml": "bundle:\n  name: m\nresources:\n  quality_monitors:\n    shared:\n      table_name: main.default.t\n      output_schema_name: main.default\n      assets_dir: /Shared/m\n      snapshot: {}\n"})
	b, l, err = Load(LoadOptions{Dir: dir, CurrentUser: &u, Isolate: &Isolation{Name: "pr-7"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Resources) != 0 || !strings.Contains(fmt.Sprint(l), `quality monitor "shared" is left out of the test deployment "pr-7"`) {
		t.Errorf("shared monitor: resources %v, findings %v; want it left out with a warning", b.Resources, l)
	}
}
