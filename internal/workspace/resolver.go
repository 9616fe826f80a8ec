package workspace

import (
	"context"

	"github.com/databricks/databricks-sdk-go"

	"github.com/brickci/brickci/internal/bundle"
)

// Resolver connects a bundle load to the workspace its target names: its
// Resolve method is a bundle.LoadOptions.Resolve. The first call builds the
// client for the target's host and reads the current user; a later call
// (the reload after building artifacts) gives the same user back without a
// request. Lookups are asked once per kind and name.
type Resolver struct {
	ctx context.Context
	env Env
	// Client is the client of the first successful Resolve; nil before, or
	// when no client could be configured.
	Client *databricks.WorkspaceClient
	// User is the current user read by the first successful Resolve.
	User    *bundle.User
	lookups map[[2]string]looked
}

// looked is one remembered lookup.
type looked struct {
	id  string
	err error
}

// NewResolver returns a Resolver whose requests run under ctx.
func NewResolver(ctx context.Context, env Env) *Resolver {
	return &Resolver{ctx: ctx, env: env, lookups: map[[2]string]looked{}}
}

// Resolve returns the current user and the lookups of the workspace ws
// names (or --host, or DATABRICKS_HOST; see Env.ResolveHost). A client that
// cannot be configured is a *ConfigError; a failed read of the current
// user says which host it asked.
func (r *Resolver) Resolve(ws bundle.Workspace) (*bundle.User, bundle.LookupFunc, error) {
	if r.User == nil {
		if r.Client == nil {
			w, err := r.env.Client(ws.Host)
			if err != nil {
				return nil, nil, err
			}
			r.Client = w
		}
		u, err := CurrentUser(r.ctx, r.Client)
		if err != nil {
			return nil, nil, err
		}
		r.User = &u
	}
	return r.User, r.lookup, nil
}

func (r *Resolver) lookup(kind, name string) (string, error) {
	key := [2]string{kind, name}
	if v, ok := r.lookups[key]; ok {
		return v.id, v.err
	}
	id, err := Lookup(r.ctx, r.Client, kind, name)
	r.lookups[key] = looked{id, err}
	return id, err
}
