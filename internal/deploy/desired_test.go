package deploy

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/brickci/brickci/internal/bundle"
)

// TestJobSettingsRunAs checks that the bundle's run_as applies to jobs that
// do not name their own identity, and only to those.
func TestJobSettingsRunAs(t *testing.T) {
	t.Parallel()
	b := demoBundle(t.TempDir())
	b.RunAs = &bundle.RunAs{ServicePrincipalName: servingSP}
	b.Jobs["train"].Config["run_as"] = map[string]any{"user_name": "owner@example.com"}
	for key, want := range map[string]string{"orchestrate": servingSP, "train": "owner@example.com"} {
		s, norm, err := jobSettings(b, b.Jobs[key], map[string]string{"resources.jobs.train": "7"})
		if err != nil {
			t.Fatal(err)
		}
		if s.RunAs == nil || s.RunAs.ServicePrincipalName+s.RunAs.UserName != want {
			t.Errorf("job %s runs as %+v, want %s", key, s.RunAs, want)
		}
		if _, ok := norm["run_as"]; !ok {
			t.Errorf("job %s: run_as missing from the recorded settings, so a change would not be planned", key)
		}
	}
}

// TestForEachParallel checks the bound on calls in flight and that the
// first error stops the remaining calls.
func TestForEachParallel(t *testing.T) {
	t.Parallel()
	items := make([]int, 200)
	for i := range items {
		items[i] = i
	}
	var inFlight, peak, calls atomic.Int32
	var mu sync.Mutex
	err := forEachParallel(context.Background(), 4, items, func(ctx context.Context, i int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		calls.Add(1)
		mu.Lock()
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Unlock()
		runtime.Gosched()
		return nil
	})
	if err != nil || calls.Load() != 200 || peak.Load() > 4 {
		t.Errorf("got err %v, %d calls, peak %d in flight; want nil, 200, at most 4", err, calls.Load(), peak.Load())
	}

	boom := errors.New("boom")
	calls.Store(0)
	err = forEachParallel(context.Background(), 1, items, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls.Load() > 5 {
		t.Errorf("got err %v after %d calls; want boom after at most 5", err, calls.Load())
	}
}

// The deployer keeps ownership under the principal type the permissions
// API expects: a service principal (an application id) as
// service_principal_name, a user as user_name, and never twice.
func TestACLGrantsTheDeployerAsItsKind(t *testing.T) {
	t.Parallel()
	sp := "6f1c2a4e-3b7d-4e8a-9c0f-1a2b3c4d5e6f"
	perms := []bundle.Permission{{Level: "CAN_MANAGE_RUN", ServicePrincipalName: sp}, {Level: "CAN_VIEW", GroupName: "users"}}
	got := acl(perms, sp, iam.PermissionLevelIsOwner)
	want := []iam.AccessControlRequest{
		{ServicePrincipalName: sp, PermissionLevel: iam.PermissionLevelIsOwner},
		{GroupName: "users", PermissionLevel: iam.PermissionLevelCanView},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service principal deployer (-want +got):\n%s", diff)
	}
	got = acl(perms, "someone@example.com", iam.PermissionLevelIsOwner)
	if got[0].UserName != "someone@example.com" || got[0].ServicePrincipalName != "" || len(got) != 3 {
		t.Errorf("user deployer: %+v", got)
	}
}
