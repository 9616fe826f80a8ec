// Package gittest is imported by tests only: it runs git hermetically so
// that tests making checkouts do not depend on the machine's git
// configuration. It must not be imported by non-test code.
package gittest
