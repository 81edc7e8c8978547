// Prints io.kubernetes.container.hash as the upstream kubelet at the pin writes it:
// strconv.FormatUint(kubecontainer.HashContainer(&container), 16) (kuberuntime/labels.go).
package main

import (
	"fmt"
	"os"
	"strconv"

	v1 "k8s.io/api/core/v1"
	kubecontainer "k8s.io/kubernetes/pkg/kubelet/container"
)

func main() {
	args := os.Args[1:]
	for i := 0; i+1 < len(args); i += 2 {
		c := v1.Container{Name: args[i], Image: args[i+1], Command: []string{"ignored"}}
		fmt.Printf("%q %q %s\n", args[i], args[i+1], strconv.FormatUint(kubecontainer.HashContainer(&c), 16))
	}
}
