package deploy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
)

// SupportedTypes returns the resource types the deploy engine handles
// (the groups of types), sorted. A bundle holding any other type cannot be
// deployed completely: see CheckSupported.
func SupportedTypes() []string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		out = append(out, t.group())
	}
	slices.Sort(out)
	return out
}

// Supports reports whether the deploy engine handles a resource type.
func Supports(typ string) bool { return typeOf(typ) != nil }

// CheckSupported reports, at each one, the resources of b whose type the
// deploy engine does not handle. Those whose type is in skip are infos
// (the user chose to leave them to another tool); the others get the
// severity sev: an error where a deploy must stop before it changes
// anything, a warning in a plan.
func CheckSupported(b *bundle.Bundle, skip []string, sev diag.Severity) diag.List {
	var l diag.List
	handled := joinAnd(SupportedTypes())
	for _, r := range b.Resources {
		if Supports(r.Type) {
			continue
		}
		at := r.Location
		if slices.Contains(skip, r.Type) {
			l = append(l, diag.Infof("skipped-resource", at.File, at.Line, at.Column,
				"%s %q is skipped (--skip-unsupported %s): brickci does not deploy it, and this deploy leaves it as it is in the workspace", r.Type, r.Key, r.Type))
			continue
		}
		msg := fmt.Sprintf("%s %q is not deployed by brickci, which deploys %s", r.Type, r.Key, handled)
		switch sev {
		case diag.Error:
			msg += fmt.Sprintf("; the deploy stops before changing anything: deploy it with the Databricks CLI and pass --skip-unsupported %s", r.Type)
		default:
			msg += fmt.Sprintf("; a deploy fails on it unless --skip-unsupported %s is given", r.Type)
		}
		l = append(l, diag.Finding{Severity: sev, Rule: "unsupported-resource", Message: msg, File: at.File, Line: at.Line, Column: at.Column})
	}
	l.Sort()
	return l
}

// CheckSkip checks the types given to --skip-unsupported: each must be a
// resource type the bundle format knows and the deploy engine does not
// handle.
func CheckSkip(skip []string) error {
	known := bundle.ResourceTypes()
	var errs []error
	for _, t := range skip {
		switch {
		case Supports(t):
			errs = append(errs, fmt.Errorf("%q is deployed by brickci and cannot be skipped; --skip-unsupported takes types it does not deploy", t))
		case !slices.Contains(known, t):
			errs = append(errs, fmt.Errorf("unknown resource type %q in --skip-unsupported%s", t, diag.DidYouMean(t, known)))
		}
	}
	return errors.Join(errs...)
}

// joinAnd joins words as prose: "a", "a and b", "a, b and c".
func joinAnd(l []string) string {
	if len(l) <= 1 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
}
