package demo

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
)

// console interprets the workflow commands a step prints, as the runner
// does: values given to ::add-mask:: are replaced by *** in everything
// shown or logged afterwards, ::group:: lines become headings, annotations
// are collected, and ::stop-commands::TOKEN turns interpretation off until
// ::TOKEN::.
type console struct {
	mu          sync.Mutex
	masks       []string
	annotations []string
	log         io.Writer // every line, masked
	show        io.Writer // lines shown live; nil shows none
	stopToken   string
}

func (c *console) mask(s string) string {
	for _, m := range c.masks {
		if m != "" {
			s = strings.ReplaceAll(s, m, "***")
		}
	}
	return s
}

// feed reads a step's output line by line until EOF.
func (c *console) feed(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		c.line(sc.Text())
	}
}

func (c *console) line(l string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopToken != "" {
		if l == "::"+c.stopToken+"::" {
			c.stopToken = ""
			return
		}
		c.emit(l)
		return
	}
	if !strings.HasPrefix(l, "::") {
		c.emit(l)
		return
	}
	cmd, msg, ok := strings.Cut(l[2:], "::")
	if !ok {
		c.emit(l)
		return
	}
	name, props, _ := strings.Cut(cmd, " ")
	switch name {
	case "add-mask":
		c.masks = append(c.masks, unescape(msg))
	case "stop-commands":
		c.stopToken = msg
	case "group":
		c.emit("▸ " + unescape(msg))
	case "endgroup":
	case "error", "warning", "notice":
		a := name + ": " + unescape(msg)
		if file := prop(props, "file"); file != "" {
			a = fmt.Sprintf("%s: %s:%s: %s", name, file, prop(props, "line"), unescape(msg))
		}
		a = c.mask(a)
		c.annotations = append(c.annotations, a)
		fmt.Fprintln(c.log, a)
	default:
		c.emit(l)
	}
}

func (c *console) emit(l string) {
	l = c.mask(l)
	fmt.Fprintln(c.log, l)
	if c.show != nil {
		fmt.Fprintln(c.show, "    "+l)
	}
}

// unescape reverses the workflow-command escaping of messages.
func unescape(s string) string {
	return strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%").Replace(s)
}

func prop(props, key string) string {
	for _, p := range strings.Split(props, ",") {
		if k, v, ok := strings.Cut(p, "="); ok && k == key {
			return unescape(v)
		}
	}
	return ""
}
