package deploy

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// TestLargeUploadThroughBalancer: a photo near --max-upload (10 MiB by
// default) goes through each shipped balancer file to a node and
// completes its task; nginx's default body bound (1 MiB), or one set
// below the server's, would answer 413 in its own HTML instead.
func TestLargeUploadThroughBalancer(t *testing.T) {
	for _, lb := range balancers {
		t.Run(lb, func(t *testing.T) {
			c := newCluster(t, lb)
			admin, code := login(t, nil, c.base, adminEmail, adminPassword)
			if code != 200 {
				t.Fatalf("admin login through %s: %d", lb, code)
			}
			var s struct{ ID string }
			if code := call(t, nil, "POST", c.base+"/api/sessions", admin, map[string]any{"mode": "start",
				"customer": map[string]string{"name": "Uma Upload", "email": "uma@example.com"}}, &s, nil); code != 201 {
				t.Fatalf("start a session: %d", code)
			}
			var task struct{ ID string }
			if code := call(t, nil, "POST", c.base+"/api/sessions/"+s.ID+"/tasks", admin,
				map[string]string{"kind": "upload", "title": "Photo of your ID"}, &task, nil); code != 201 {
				t.Fatalf("add the upload task: %d", code)
			}
			var link struct{ URL string }
			if code := call(t, nil, "POST", c.base+"/api/sessions/"+s.ID+"/link", admin, nil, &link, nil); code != 200 {
				t.Fatalf("link: %d", code)
			}
			token := link.URL[strings.LastIndex(link.URL, "/")+1:]

			body, contentType := photoForm(t, 9<<20)
			req, err := http.NewRequest("POST", c.base+"/api/customer/tasks/"+task.ID+"/upload", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Link "+token)
			req.Header.Set("Content-Type", contentType)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var done struct{ Task struct{ Status string } }
			_ = json.NewDecoder(res.Body).Decode(&done)
			if res.StatusCode != 200 || done.Task.Status != "completed" {
				t.Fatalf("a %d MiB upload through %s: %d, task %q", len(body)>>20, lb, res.StatusCode, done.Task.Status)
			}
		})
	}
}

// photoForm is a multipart body with a JPEG of at least size bytes: a
// small picture followed by padding, which decoders ignore.
func photoForm(t *testing.T, size int) ([]byte, string) {
	t.Helper()
	var img bytes.Buffer
	if err := jpeg.Encode(&img, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("file", "id.jpg")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(img.Bytes())
	_, _ = w.Write(make([]byte, size-img.Len()))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}
