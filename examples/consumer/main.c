/* A small program that uses libspiraltorch as an installed library: it is built by
 * scripts/test-install.sh through the exported CMake package and through pkg-config. */
#include <spiraltorch.h>
#include <stdio.h>

int main(void) {
    int64_t shape[2] = {2, 3};
    st_manual_seed(42);
    st_tensor *a = st_arange(0, 6, 1, ST_F32);
    st_tensor *m = a ? st_reshape(a, 2, shape) : NULL;
    st_tensor *t = m ? st_transpose(m, 0, 1) : NULL;
    st_tensor *c = t ? st_contiguous(t) : NULL;
    if (!c) {
        fprintf(stderr, "consumer: %s\n", st_last_error());
        return 1;
    }
    float v[6];
    if (st_to_host(c, ST_F32, v, sizeof v) != ST_OK) {
        fprintf(stderr, "consumer: %s\n", st_last_error());
        return 1;
    }
    /* transpose of [[0,1,2],[3,4,5]] is [[0,3],[1,4],[2,5]] */
    int ok = v[0] == 0 && v[1] == 3 && v[2] == 1 && v[5] == 5;
    printf("spiraltorch %s consumer: %s\n", st_version(), ok ? "ok" : "WRONG");
    st_release(c);
    st_release(t);
    st_release(m);
    st_release(a);
    return ok ? 0 : 1;
}
