package main

import (
	"flag"
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// localOnly are flags that make no sense as action inputs.
var localOnly = map[string]bool{
	"t":       true, // the input is "target"
	"profile": true, // ~/.databrickscfg does not exist on a runner
	"out":     true,
	"remote":  true,
}

// inputsWithoutFlag are inputs read another way than through a flag.
var inputsWithoutFlag = map[string]bool{
	"mode":         true, // selects the mode
	"jobs":         true, // the positional job keys
	"github_token": true, // read by internal/github
	"install":      true, // used by the install step
}

// TestActionYMLMatchesTheModes keeps action.yml and the modes in step:
// every flag of every mode is an input, every input reaches the binary as
// INPUT_<NAME> through the run step's env (composite actions do not set
// them), and no input is left without a use.
func TestActionYMLMatchesTheModes(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]any `yaml:"inputs"`
		Runs   struct {
			Steps []struct {
				ID  string            `yaml:"id"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	for _, s := range action.Runs.Steps {
		if s.ID == "run" {
			env = s.Env
		}
	}
	if env == nil {
		t.Fatal("no step with id run")
	}
	used := map[string]bool{}
	for _, name := range modeNames() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		modes[name].flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if localOnly[f.Name] {
				return
			}
			input := strings.ReplaceAll(f.Name, "-", "_")
			used[input] = true
			if _, ok := action.Inputs[input]; !ok {
				t.Errorf("flag --%s of mode %s has no input %q in action.yml", f.Name, name, input)
			}
		})
	}
	var names []string
	for in := range action.Inputs {
		names = append(names, in)
	}
	sort.Strings(names)
	for _, in := range names {
		if !used[in] && !inputsWithoutFlag[in] {
			t.Errorf("input %q is not a flag of any mode", in)
		}
		key := "INPUT_" + strings.ToUpper(in)
		if in == "install" {
			continue
		}
		if got, want := env[key], "${{ inputs."+in+" }}"; got != want {
			t.Errorf("run step env %s = %q, want %q", key, got, want)
		}
	}
}
