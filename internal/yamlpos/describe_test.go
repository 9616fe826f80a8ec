package yamlpos

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"{a: 1}":     "a mapping",
		"[1, 2]":     "a list",
		"yes":        `the string "yes"`,
		`"3"`:        `the string "3"`,
		"3":          "the integer 3",
		"1.5":        "the number 1.5",
		"true":       "the boolean true",
		"~":          "null",
		"&a x\n":     `the string "x"`,
		"[&a 1, *a]": "the integer 1",
	}
	for src, want := range cases {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
				t.Fatal(err)
			}
			n := doc.Content[0]
			if n.Kind == yaml.SequenceNode && len(n.Content) == 2 && n.Content[1].Kind == yaml.AliasNode {
				n = n.Content[1]
			}
			if got := Describe(n); got != want {
				t.Errorf("Describe(%q) = %q, want %q", src, got, want)
			}
		})
	}
	if got := Describe(nil); got != "nothing" {
		t.Errorf("Describe(nil) = %q, want \"nothing\"", got)
	}
}
