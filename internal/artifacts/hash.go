package artifacts

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// Hash returns the hex sha256 that says whether a built file changed. A zip
// archive (wheel, jar) is hashed by its entries' names and contents, in name
// order, so that the timestamps a rebuild stores do not count; any other
// file, or a file that is not a valid zip, by its bytes.
func Hash(path string) (string, error) {
	if h, err := zipHash(path); err == nil {
		return h, nil
	} else if !errors.Is(err, zip.ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("failed to read %q: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func zipHash(path string) (string, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	files := append([]*zip.File{}, r.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	h := sha256.New()
	for _, f := range files {
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		eh := sha256.New()
		_, err = io.Copy(eh, rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%x\n", f.Name, eh.Sum(nil))
	}
	return "zip:" + hex.EncodeToString(h.Sum(nil)), nil
}
