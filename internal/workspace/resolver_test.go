package workspace

import (
	"context"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
)

// TestResolverAsksOnce checks that a second Resolve (the reload after a
// build) gives the same user without a request, and that a lookup is asked
// once per kind and name.
func TestResolverAsksOnce(t *testing.T) {
	t.Parallel()
	em, env := serve(t)
	r := NewResolver(context.Background(), env)
	var users []string
	for range 2 {
		u, lookups, err := r.Resolve(bundle.Workspace{})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.UserName)
		for range 2 {
			if _, err := lookups("warehouse", "no such warehouse"); err == nil {
				t.Error("a lookup of a missing warehouse succeeded")
			}
		}
	}
	if users[0] != emulator.DefaultUserName || users[1] != users[0] {
		t.Errorf("users %q, want %q twice", users, emulator.DefaultUserName)
	}
	if n := count(em, "/api/2.0/preview/scim/v2/Me"); n != 1 {
		t.Errorf("%d current-user requests, want 1", n)
	}
	if n := count(em, "/api/2.0/sql/warehouses"); n != 1 {
		t.Errorf("%d warehouse list requests, want 1", n)
	}
}
