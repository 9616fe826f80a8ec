package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// apiError is a Databricks error response: an HTTP status and the body
// {"error_code": ..., "message": ...}.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Error constructors for the codes Databricks uses, with the status it sends
// for each (see https://docs.databricks.com/api/workspace/introduction).
func errInvalidParameter(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "INVALID_PARAMETER_VALUE", format, args...)
}

func errMalformed(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "MALFORMED_REQUEST", format, args...)
}

func errDoesNotExist(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", format, args...)
}

// errAlreadyExists uses 400, as the workspace and serving APIs do.
func errAlreadyExists(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS", format, args...)
}

func errConflict(format string, args ...any) *apiError {
	return newError(http.StatusConflict, "RESOURCE_CONFLICT", format, args...)
}

func errPermissionDenied(format string, args ...any) *apiError {
	return newError(http.StatusForbidden, "PERMISSION_DENIED", format, args...)
}

func errUnauthenticated(format string, args ...any) *apiError {
	return newError(http.StatusUnauthorized, "UNAUTHENTICATED", format, args...)
}

func errNotFoundEndpoint(method, path string) *apiError {
	return newError(http.StatusNotFound, "ENDPOINT_NOT_FOUND", "no api found for %q %q", method, path)
}

func errRateLimited() *apiError {
	return newError(http.StatusTooManyRequests, "REQUEST_LIMIT_EXCEEDED", "too many requests, retry later")
}

func errUnavailable() *apiError {
	return newError(http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "the service is temporarily unavailable, retry later")
}

// errTooLarge is the answer to a request body over maxBodyBytes.
func errTooLarge() *apiError {
	return newError(http.StatusRequestEntityTooLarge, "REQUEST_LIMIT_EXCEEDED", "request body is larger than the limit of %d bytes", maxBodyBytes)
}

// readBody reads a request body of at most maxBodyBytes. A larger body is
// read to its end and dropped, so that the client, still sending, gets the
// 413 answer instead of a reset connection (closing a socket with unread
// data makes the kernel send a reset, which can destroy the answer).
func readBody(r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, errInvalidParameter("failed to read request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		_, _ = io.Copy(io.Discard, r.Body)
		return nil, errTooLarge()
	}
	return body, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]string{
			"error_code": "INTERNAL_ERROR",
			"message":    fmt.Sprintf("failed to encode response: %v", err),
		})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error_code": e.code, "message": e.message})
}
