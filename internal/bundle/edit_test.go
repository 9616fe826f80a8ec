package bundle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddTargetsKeepsTheFileAsWritten(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
		add            []NewTarget
	}{
		{
			name: "four-space indent, comments and a following key",
			in:   "# my bundle\nbundle:\n    name: demo   # keep me\n\ntargets:\n    dev:\n        default: true\n    # prod comes later\n\n# resources below\nresources: {}\n",
			add:  []NewTarget{{Name: "staging", Host: "https://s.example.com"}, {Name: "prod"}},
			want: "# my bundle\nbundle:\n    name: demo   # keep me\n\ntargets:\n    dev:\n        default: true\n    # prod comes later\n" +
				"    # added by brickci generate: the pipeline spec deploys to \"staging\"\n    staging:\n        workspace:\n            host: https://s.example.com\n" +
				"    # added by brickci generate: the pipeline spec deploys to \"prod\"\n    prod: {}\n" +
				"\n# resources below\nresources: {}\n",
		},
		{
			name: "no targets key, no final newline",
			in:   "bundle:\n  name: demo",
			add:  []NewTarget{{Name: "prod"}},
			want: "bundle:\n  name: demo\n\ntargets:\n  # added by brickci generate: the pipeline spec deploys to \"prod\"\n  prod: {}\n",
		},
		{
			name: "empty targets key",
			in:   "bundle:\n  name: demo\ntargets:\nresources: {}\n",
			add:  []NewTarget{{Name: "test"}},
			want: "bundle:\n  name: demo\ntargets:\n  # added by brickci generate: the pipeline spec deploys to \"test\"\n  test: {}\nresources: {}\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "databricks.yml")
			if err := os.WriteFile(path, []byte(c.in), 0o640); err != nil {
				t.Fatal(err)
			}
			changed, err := AddTargets(path, c.add)
			if err != nil || !changed {
				t.Fatalf("changed=%v err=%v", changed, err)
			}
			got, _ := os.ReadFile(path)
			if diff := cmp.Diff(c.want, string(got)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
			_, names, err := TargetNames(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.add {
				found := false
				for _, have := range names {
					found = found || have == n.Name
				}
				if !found {
					t.Errorf("target %q not defined after adding it: %v", n.Name, names)
				}
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
				t.Errorf("mode changed to %v", st.Mode().Perm())
			}
		})
	}
}

func TestAddTargetsRefusesFlowStyle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "databricks.yml")
	os.WriteFile(path, []byte("bundle: {name: x}\ntargets: {dev: {}}\n"), 0o644)
	if _, err := AddTargets(path, []NewTarget{{Name: "prod"}}); err == nil {
		t.Error("flow-style targets edited")
	}
}

func TestTargetNamesCountsIncludes(t *testing.T) {
	t.Parallel()
	_, names, err := TargetNames("testdata/good/includes")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no targets found")
	}
}
