package gen

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/spec"
	"github.com/brickci/brickci/internal/workflow"
	"github.com/brickci/brickci/internal/yamllimit"
)

// RuleDrift is the rule id of findings about workflows out of sync with the spec.
const RuleDrift = "drift"

// DriftKind says how a workflow file differs from what the spec yields.
type DriftKind int

// The kinds of drift.
const (
	// SpecChanged: the file's body differs from what the spec yields and
	// it records another spec hash; regenerate it.
	SpecChanged DriftKind = iota + 1
	// EditedByHand: the file records the current spec hash but its body
	// differs, or it lacks the generated header.
	EditedByHand
	// Missing: the spec yields the file but it does not exist.
	Missing
	// Stale: the file carries the generated header naming the same spec
	// but the spec no longer yields it.
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

// Drift is one workflow file out of sync with the spec. Only a file whose
// content differs beyond the header's spec-hash line drifts: a spec change
// that yields the same workflow (a comment, a reordered key) is not drift,
// and Write leaves such a file as it is.
type Drift struct {
	// File is the workflow's path, as outDir was given, joined with its name.
	File string
	Kind DriftKind
	// Line and Column locate the first difference in the file on disk,
	// 1-based; both are 0 for a missing file.
	Line, Column int
	// Diff is a unified diff from the file on disk to the generated one.
	Diff string
	// Fix names the commands that regenerate the file, for messages
	// ("regenerate with ..."); Check sets it from the repository with
	// RegenerateCommand, and Findings falls back to the generic one.
	Fix string
}

// Position returns "file:line:col" of the first difference, or the file
// alone when it is missing.
func (d Drift) Position() string {
	if d.Line == 0 {
		return d.File
	}
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Column)
}

// Check loads the spec at specPath (relative to root), regenerates in
// memory and compares with the workflows in outDir (relative to root).
// Spec problems are the result's findings; when they include errors no
// comparison is made. The error is for files that cannot be read.
func Check(root, specPath, outDir string) (*Result, error) {
	s, findings, err := load(root, specPath)
	if err != nil {
		return nil, err
	}
	res := &Result{Spec: s, Findings: findings}
	if findings.AtLeast(diag.Error) {
		return res, nil
	}
	files, err := Generate(s, specPath)
	if err != nil {
		return nil, err
	}
	res.Files = files
	drifts, err := Compare(files, s.SHA256, filepath.Join(root, outDir), outDir)
	if err != nil {
		return nil, err
	}
	fix := RegenerateCommand(root)
	for i := range drifts {
		drifts[i].Fix = fix
	}
	res.Drifts = drifts
	return res, nil
}

// genericRegenerate names the commands that regenerate workflows in any
// repository.
const genericRegenerate = `"genworkflows" or "brickci generate"`

// RegenerateCommand names the commands that regenerate the workflows of
// the repository at root, for messages: "go generate ./..." only where a Go
// module at the root has a go:generate directive that runs genworkflows;
// elsewhere the generator binary or brickci's generate mode.
func RegenerateCommand(root string) string {
	const always = genericRegenerate
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return always
	}
	sources, err := filepath.Glob(filepath.Join(root, "*.go"))
	if err != nil {
		return always
	}
	for _, src := range sources {
		data, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "//go:generate ") && strings.Contains(line, "genworkflows") {
				return `"go generate ./..." or "brickci generate"`
			}
		}
	}
	return always
}

func load(root, specPath string) (*spec.Spec, diag.List, error) {
	data, err := yamllimit.ReadFile(filepath.Join(root, specPath))
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
	names := slices.Sorted(maps.Keys(files))
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
		line, col, differs := firstDifference(have, want)
		if !differs {
			continue
		}
		kind := EditedByHand
		if h, ok := workflow.ParseHeader(have); ok && h.SHA256 != hash {
			kind = SpecChanged
		}
		drifts = append(drifts, Drift{File: shown, Kind: kind, Line: line, Column: col, Diff: unified(shown, string(have), string(want))})
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
		drifts = append(drifts, Drift{File: shown, Kind: Stale, Line: 1, Column: 1, Diff: unified(shown, string(have), "")})
	}
	sort.Slice(drifts, func(i, j int) bool { return drifts[i].File < drifts[j].File })
	return drifts, nil
}

// firstDifference compares a file on disk with the generated one, line
// by line, and returns the 1-based line and column in have where they first
// differ. The header's spec-hash line (the second line of both, when both
// carry the generated header) is not compared: a new hash alone is no
// change.
func firstDifference(have, want []byte) (line, col int, differs bool) {
	_, haveHeader := workflow.ParseHeader(have)
	_, wantHeader := workflow.ParseHeader(want)
	skipHash := haveHeader && wantHeader
	a, b := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		if skipHash && i == 1 {
			continue
		}
		switch {
		case i >= len(a):
			// have is a prefix of want: the difference is past its end.
			return len(a), len(a[len(a)-1]) + 1, true
		case i >= len(b):
			return i + 1, 1, true
		case a[i] != b[i]:
			return i + 1, commonPrefix(a[i], b[i]) + 1, true
		}
	}
	return 0, 0, false
}

// commonPrefix returns the length in bytes of the longest common prefix of
// a and b that ends on a rune boundary.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return n
}

// staleFiles lists the files in dir that carry the generated header, name
// the same spec as files do, and are not among files: the workflows of a
// project removed from the spec, or of tests it no longer has. A file
// without the header was written by hand, and one generated from another
// spec belongs to that spec: neither is ever stale.
func staleFiles(files map[string][]byte, dir string) ([]string, error) {
	source, known := "", false
	for _, n := range slices.Sorted(maps.Keys(files)) {
		if h, ok := workflow.ParseHeader(files[n]); ok {
			source, known = h.Source, true
			break
		}
	}
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
		if h, ok := workflow.ParseHeader(data); ok && (!known || h.Source == source) {
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

// Findings turns drifts into findings with rule "drift", one per file, at
// the first line that differs.
func Findings(drifts []Drift) diag.List {
	var out diag.List
	for _, d := range drifts {
		fix := d.Fix
		if fix == "" {
			fix = genericRegenerate
		}
		fix = "regenerate with " + fix
		var f diag.Finding
		switch d.Kind {
		case SpecChanged:
			f = diag.Errorf(RuleDrift, d.File, d.Line, d.Column, "workflow %q is out of date: the spec changed since it was generated; %s", d.File, fix)
		case EditedByHand:
			f = diag.Errorf(RuleDrift, d.File, d.Line, d.Column, "workflow %q was edited by hand and no longer matches the spec; change the spec instead and %s", d.File, fix)
		case Missing:
			f = diag.Errorf(RuleDrift, d.File, 0, 0, "workflow %q is missing; %s", d.File, fix)
		case Stale:
			f = diag.Errorf(RuleDrift, d.File, d.Line, d.Column, "workflow %q was generated but the spec no longer yields it; delete it or %s", d.File, fix)
		}
		out = append(out, f)
	}
	out.Sort()
	return out
}
