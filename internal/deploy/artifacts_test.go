package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/google/go-cmp/cmp"
)

// A bundle loaded before its artifacts were built still names the local
// glob: deploying it would send a path the workspace does not have.
func TestUnbuiltArtifactIsRefused(t *testing.T) {
	t.Parallel()
	b := &bundle.Bundle{Jobs: map[string]*bundle.Job{"j": {Key: "j", Config: map[string]any{
		"tasks": []any{map[string]any{"task_key": "t", "libraries": []any{map[string]any{"whl": "../dist/*.whl"}}}},
	}}}}
	_, err := localArtifacts(b)
	if err == nil || !strings.Contains(err.Error(), `job "j" refers to the local file "../dist/*.whl"`) {
		t.Errorf("err = %v", err)
	}
}

func TestPlanArtifacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whl := filepath.Join(dir, "dist", "p-1-py3-none-any.whl")
	if err := os.MkdirAll(filepath.Dir(whl), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(whl, []byte("wheel"), 0o644); err != nil {
		t.Fatal(err)
	}
	remote := "/Workspace/a/.internal/p-1-py3-none-any.whl"
	b := &bundle.Bundle{
		Dir:           dir,
		Workspace:     bundle.Workspace{ArtifactPath: "/Workspace/a"},
		ArtifactFiles: []bundle.ArtifactFile{{Artifact: "p", Abs: whl, Remote: remote}},
		Jobs: map[string]*bundle.Job{
			"uses":  {Key: "uses", Config: map[string]any{"environments": []any{map[string]any{"spec": map[string]any{"dependencies": []any{remote}}}}}},
			"other": {Key: "other", Config: map[string]any{"name": "other"}},
			"new":   {Key: "new", Config: map[string]any{"libraries": []any{map[string]any{"whl": remote}}}},
		},
	}
	arts, err := localArtifacts(b)
	if err != nil {
		t.Fatal(err)
	}
	p := &PlanResult{Resources: []ResourceChange{
		{Kind: KindJob, Key: "new", Action: Create},
		{Kind: KindJob, Key: "other", Action: Unchanged},
		{Kind: KindJob, Key: "uses", Action: Unchanged},
	}}
	old := []StateArtifact{{Artifact: "p", Remote: remote, SHA256: "old"}, {Artifact: "p", Remote: "/Workspace/a/.internal/p-0-py3-none-any.whl", SHA256: "x"}}
	planArtifacts(p, b, arts, old)
	want := ArtifactChanges{
		Upload:  []ArtifactUpload{{Artifact: "p", Remote: remote, Jobs: []string{"uses"}}},
		Deleted: []string{"/Workspace/a/.internal/p-0-py3-none-any.whl"},
	}
	if diff := cmp.Diff(want, p.Artifacts); diff != "" {
		t.Errorf("artifact changes (-want +got):\n%s", diff)
	}
	if p.Resources[2].Action != Update || !artifactChanged(p.Resources[2]) || p.Resources[1].Action != Unchanged || p.Resources[0].Action != Create {
		t.Errorf("resources %+v", p.Resources)
	}
	// The same content again changes nothing.
	p2 := &PlanResult{Resources: []ResourceChange{{Kind: KindJob, Key: "uses", Action: Unchanged}}}
	planArtifacts(p2, b, arts, []StateArtifact{{Artifact: "p", Remote: remote, SHA256: arts[0].Hash}})
	if p2.Changed() || p2.Artifacts.Unchanged != 1 {
		t.Errorf("unchanged artifact: %+v changed=%v", p2.Artifacts, p2.Changed())
	}
}
