package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/diag"
)

const resolveBundle = `bundle: {name: r}
workspace: {host: https://base.example.com}
variables:
  wh: {lookup: {warehouse: Shared}}
targets:
  dev: {default: true}
  staging:
    workspace: {host: https://staging.example.com, profile: stg}
resources:
  jobs:
    j:
      name: j-${workspace.current_user.short_name}
      description: ${var.wh}
`

// TestResolveHook checks that Load asks Resolve once, with the target's
// workspace block merged, and resolves for the user and lookups it gives.
func TestResolveHook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "databricks.yml"), []byte(resolveBundle), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked []Workspace
	u := NewUser("someone.else@example.com")
	resolve := func(ws Workspace) (*User, LookupFunc, error) {
		asked = append(asked, ws)
		return &u, func(kind, name string) (string, error) { return kind + ":" + name, nil }, nil
	}
	b, l, err := Load(LoadOptions{Dir: dir, Target: "staging", Resolve: resolve})
	if err != nil || l.AtLeast(diag.Error) {
		t.Fatalf("load: %v %v", err, l)
	}
	if want := (Workspace{Host: "https://staging.example.com", Profile: "stg"}); len(asked) != 1 || asked[0] != want {
		t.Errorf("Resolve asked with %+v, want once with %+v", asked, want)
	}
	if b.CurrentUser != u || !strings.Contains(b.Workspace.RootPath, "/someone.else@example.com/") {
		t.Errorf("resolved for %+v under %s, want %s", b.CurrentUser, b.Workspace.RootPath, u.UserName)
	}
	cfg := b.Jobs["j"].Config
	if cfg["name"] != "j-someone_else" || cfg["description"] != "warehouse:Shared" {
		t.Errorf("job name %q and description %q, want the short name and the looked-up id", cfg["name"], cfg["description"])
	}

	stop := errors.New("no workspace")
	_, _, err = Load(LoadOptions{Dir: dir, Resolve: func(Workspace) (*User, LookupFunc, error) { return nil, nil, stop }})
	if !errors.Is(err, stop) {
		t.Errorf("Load returned %v, want Resolve's error", err)
	}
	b, _, err = Load(LoadOptions{Dir: dir, Resolve: func(Workspace) (*User, LookupFunc, error) { return nil, nil, nil }})
	if err != nil || !b.CurrentUser.Placeholder {
		t.Errorf("a Resolve without a user: %v, user %+v, want the offline placeholder", err, b.CurrentUser)
	}
}
