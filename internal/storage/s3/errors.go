package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/ferry-sh/ferry/internal/storage"
)

// status is the HTTP status the store answered with, 0 when it answered
// nothing (unreachable, timed out).
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// storeErr maps an error of the store to the storage errors handlers act on,
// keeping the original for the log.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var kind error
	switch code, st := apiCode(err), status(err); {
	case st == http.StatusNotFound || code == "NoSuchKey" || code == "NotFound" || code == "NoSuchUpload":
		kind = fs.ErrNotExist
	case st == http.StatusPreconditionFailed || code == "PreconditionFailed" || st == http.StatusConflict && code == "ConditionalRequestConflict":
		kind = fs.ErrExist
	case st == http.StatusForbidden || code == "AccessDenied":
		kind = fs.ErrPermission
	case code == "EntityTooLarge":
		kind = storage.ErrTooLarge
	case st == 0 || st >= 500 || errors.Is(err, context.DeadlineExceeded):
		kind = storage.ErrUnavailable
	default:
		return fmt.Errorf("s3 %s: %w", op, err)
	}
	return &opError{op: op, kind: kind, err: err}
}

type opError struct {
	op   string
	kind error
	err  error
}

func (e *opError) Error() string   { return "s3 " + e.op + ": " + e.kind.Error() + ": " + oneLine(e.err) }
func (e *opError) Unwrap() []error { return []error{e.kind, e.err} }
