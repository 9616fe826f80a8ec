package gen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/spec"
	"github.com/brickci/brickci/internal/workflow"
)

// RuleDrift is the rule id of findings about workflows out of sync with the spec.
const RuleDrift = "drift"

// DriftKind says how a workflow file differs from what the spec yields.
type DriftKind int

// The kinds of drift.
const (
	// SpecChanged: the file records another spec hash; regenerate it.
	SpecChanged DriftKind = iota + 1
	// EditedByHand: the file records the current spec hash but its body
	// differs, or it lacks the generated header.
	EditedByHand
	// Missing: the spec yields the file but it does not exist.
	Missing
	// Stale: the file carries the generated header but the spec no longer
	// yields it.
	Stale
)

// String describes the kind in words.
func (k DriftKind) String() string {
	switch k {
	case SpecChanged:
		return "the spec changed"
	case EditedByHand:
		return "edited by hand"
	case Missing:
		return "missing"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// Drift is one workflow file out of sync with the spec.
type Drift struct {
	// File is the workflow's path, as outDir was given, joined with its name.
	File string
	Kind DriftKind
	// Diff is a unified diff from the file on disk to the generated one.
	Diff string
}

// Check loads the spec at specPath (relative to root), regenerates in
// memory and compares with the workflows in outDir (relative to root).
// Spec problems are returned as findings; when they include errors no
// comparison is made. The error is for files that cannot be read.
func Check(root, specPath, outDir string) ([]Drift, diag.List, error) {
	s, findings, err := load(root, specPath)
	if err != nil || findings.AtLeast(diag.Error) {
		return nil, findings, err
	}
	files, err := Generate(s, specPath)
	if err != nil {
		return nil, findings, err
	}
	drifts, err := Compare(files, s.SHA256, filepath.Join(root, outDir), outDir)
	return drifts, findings, err
}

func load(root, specPath string) (*spec.Spec, diag.List, error) {
	data, err := os.ReadFile(filepath.Join(root, specPath))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read pipeline spec %q: %w", specPath, err)
	}
	s, findings := spec.Parse(filepath.ToSlash(specPath), data)
	if s != nil && !findings.AtLeast(diag.Error) {
		findings = append(findings, s.Check(root)...)
		findings.Sort()
	}
	return s, findings, nil
}

// Compare compares generated files (by name) with the directory dir. name
// is how dir is shown in Drift.File. hash is the current spec's SHA-256.
func Compare(files map[string][]byte, hash, dir, name string) ([]Drift, error) {
	var drifts []Drift
	names := sortedKeys(files)
	for _, n := range names {
		want := files[n]
		shown := path.Join(filepath.ToSlash(name), n)
		have, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			drifts = append(drifts, Drift{File: shown, Kind: Missing, Diff: unified(shown, "", string(want))})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read workflow %q: %w", shown, err)
		}
		if string(have) == string(want) {
			continue
		}
		kind := EditedByHand
		if h, ok := workflow.ParseHeader(have); ok && h.SHA256 != hash {
			kind = SpecChanged
		}
		drifts = append(drifts, Drift{File: shown, Kind: kind, Diff: unified(shown, string(have), string(want))})
	}
	stale, err := staleFiles(files, dir)
	if err != nil {
		return nil, err
	}
	for _, n := range stale {
		shown := path.Join(filepath.ToSlash(name), n)
		have, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("failed to read workflow %q: %w", shown, err)
		}
		drifts = append(drifts, Drift{File: shown, Kind: Stale, Diff: unified(shown, string(have), "")})
	}
	sort.Slice(drifts, func(i, j int) bool { return drifts[i].File < drifts[j].File })
	return drifts, nil
}

// staleFiles lists the files in dir that carry the generated header but
// are not among files.
func staleFiles(files map[string][]byte, dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to list workflows in %q: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || (!strings.HasSuffix(n, ".yml") && !strings.HasSuffix(n, ".yaml")) {
			continue
		}
		if _, ok := files[n]; ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("failed to read workflow %q: %w", n, err)
		}
		if _, ok := workflow.ParseHeader(data); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func unified(name, have, want string) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(have),
		B:        difflib.SplitLines(want),
		FromFile: name + " (on disk)",
		ToFile:   name + " (generated)",
		Context:  3,
	})
	if err != nil {
		return ""
	}
	return d
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Findings turns drifts into findings with rule "drift", one per file.
func Findings(drifts []Drift) diag.List {
	var out diag.List
	for _, d := range drifts {
		var f diag.Finding
		const fix = `regenerate with "go generate ./..." or the action's generate mode`
		switch d.Kind {
		case SpecChanged:
			f = diag.Errorf(RuleDrift, d.File, 1, 1, "workflow %q is out of date: the spec changed since it was generated; %s", d.File, fix)
		case EditedByHand:
			f = diag.Errorf(RuleDrift, d.File, 1, 1, "workflow %q was edited by hand and no longer matches the spec; change the spec instead and %s", d.File, fix)
		case Missing:
			f = diag.Errorf(RuleDrift, d.File, 0, 0, "workflow %q is missing; %s", d.File, fix)
		case Stale:
			f = diag.Errorf(RuleDrift, d.File, 1, 1, "workflow %q was generated but the spec no longer yields it; delete it or %s", d.File, fix)
		}
		out = append(out, f)
	}
	out.Sort()
	return out
}
