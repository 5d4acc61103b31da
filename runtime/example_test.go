package runtime_test

import (
	"fmt"
	"log"

	"github.com/mncdev/mnc/runtime"
)

// Classify an image with a compiled model, in its own preprocessing.
func Example() {
	m, err := runtime.Open("mobilenet_v2.mnc")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	it, err := m.NewInterpreter()
	if err != nil {
		log.Fatal(err)
	}
	out, err := it.RunFile("parrot.jpg")
	if err != nil {
		log.Fatal(err)
	}
	best := 0
	for i, v := range out.Data {
		if v > out.Data[best] {
			best = i
		}
	}
	fmt.Println(best, m.Labels()[best])
}
