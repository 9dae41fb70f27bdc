/* test_autograd.c — engine semantics: requires_grad propagation, backward from scalar
 * and non-scalar outputs, .grad accumulation and zeroing, retain_graph, no_grad
 * nesting, detach, dtype round trips, graph lifetime (no leaks, no deep recursion),
 * and allocation failures during backward. Gradient values of each op are checked
 * in test_gradcheck.c; here the expected values are small hand computations. */
#include "testlib.h"

static st_tensor *vec(const double *v, int64_t n) { return st_from_data(v, 1, &n, ST_F64); }

static double at(st_tensor *t, int64_t i) {
    double buf[64];
    if (!t || st_numel(t) > 64 || st_to_host(t, ST_F64, buf, sizeof buf) != ST_OK) return NAN;
    return buf[i];
}

static int64_t live(void) {
    st_alloc_stats s;
    st_get_alloc_stats(&s);
    return s.live_allocs;
}

TEST(requires_grad_propagates) {
    st_tensor *x = vec((double[]){1, 2, 3}, 3), *c = vec((double[]){4, 5, 6}, 3);
    CHECK(!st_requires_grad(x) && st_is_leaf(x));
    CHECK_STATUS(st_set_requires_grad(x, true), ST_OK);
    st_tensor *y = st_mul(x, c), *z = st_mul(c, c);
    CHECK(st_requires_grad(y) && !st_is_leaf(y));
    CHECK(!st_requires_grad(z));
    CHECK_STATUS(st_set_requires_grad(y, false), ST_E_INVALID_ARG);
    CHECK_ERR_HAS("not a leaf");
    st_tensor *i = st_arange(0, 3, 1, ST_I64);
    CHECK_STATUS(st_set_requires_grad(i, true), ST_E_DTYPE);
    CHECK_STATUS(st_backward(z, NULL), ST_E_STATE);
    CHECK_ERR_HAS("does not require grad");
    st_release(i);
    st_release(z);
    st_release(y);
    st_release(c);
    st_release(x);
}

TEST(backward_scalar_and_accumulate) {
    /* L = sum(x*x + 3x): dL/dx = 2x + 3 */
    st_tensor *x = vec((double[]){1, -2, 0.5}, 3);
    st_set_requires_grad(x, true);
    for (int rep = 1; rep <= 2; rep++) {
        st_tensor *a = st_mul(x, x), *b = st_mul_scalar(x, 3), *s = st_add(a, b), *l = st_sum(s, NULL, 0, false);
        CHECK_STATUS(st_backward(l, NULL), ST_OK);
        st_release(l);
        st_release(s);
        st_release(b);
        st_release(a);
        st_tensor *g = st_grad(x);
        CHECK(g != NULL);
        CHECK_NEAR(at(g, 0), rep * 5.0, 1e-12);
        CHECK_NEAR(at(g, 1), rep * -1.0, 1e-12);
        CHECK_NEAR(at(g, 2), rep * 4.0, 1e-12);
    }
    st_tensor *g = st_grad(x);
    CHECK_STATUS(st_zero_grad(x), ST_OK);
    CHECK(st_grad(x) == g && at(g, 0) == 0.0);
    st_grad_clear(x);
    CHECK(st_grad(x) == NULL);
    st_release(x);
}

TEST(backward_non_scalar_needs_gradient) {
    st_tensor *x = vec((double[]){1, 2, 3}, 3);
    st_set_requires_grad(x, true);
    st_tensor *y = st_mul(x, x);
    CHECK_STATUS(st_backward(y, NULL), ST_E_SHAPE);
    CHECK_ERR_HAS("non-scalar");
    st_tensor *bad = vec((double[]){1, 1}, 2);
    CHECK_STATUS(st_backward(y, bad), ST_E_SHAPE);
    st_tensor *w = vec((double[]){1, 10, 100}, 3);
    CHECK_STATUS(st_backward(y, w), ST_OK);
    CHECK_NEAR(at(st_grad(x), 0), 2.0, 1e-12);
    CHECK_NEAR(at(st_grad(x), 1), 40.0, 1e-12);
    CHECK_NEAR(at(st_grad(x), 2), 600.0, 1e-12);
    /* a leaf as the root: its gradient is the given one */
    st_grad_clear(x);
    CHECK_STATUS(st_backward(x, w), ST_OK);
    CHECK_NEAR(at(st_grad(x), 2), 100.0, 1e-12);
    st_release(w);
    st_release(bad);
    st_release(y);
    st_release(x);
}

TEST(retain_graph) {
    st_tensor *x = vec((double[]){2}, 1);
    st_set_requires_grad(x, true);
    st_tensor *y = st_mul(x, x), *l = st_sum(y, NULL, 0, false);
    CHECK_STATUS(st_backward_ex(l, NULL, true), ST_OK);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    CHECK_NEAR(at(st_grad(x), 0), 8.0, 1e-12);
    CHECK_STATUS(st_backward(l, NULL), ST_E_STATE);
    CHECK_ERR_HAS("already freed");
    st_release(l);
    st_release(y);
    st_release(x);
}

TEST(diamond_and_shared_subgraph) {
    /* y = 2x; z = y + y*y; dz/dx = 2 + 8x */
    st_tensor *x = vec((double[]){1.5, -1}, 2);
    st_set_requires_grad(x, true);
    st_tensor *y = st_mul_scalar(x, 2), *yy = st_mul(y, y), *z = st_add(y, yy);
    st_tensor *l = st_sum(z, NULL, 0, false);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    CHECK_NEAR(at(st_grad(x), 0), 14.0, 1e-12);
    CHECK_NEAR(at(st_grad(x), 1), -6.0, 1e-12);
    st_release(l);
    st_release(z);
    st_release(yy);
    st_release(y);
    st_release(x);
}

TEST(no_grad_scopes_nest) {
    CHECK(st_is_grad_enabled());
    st_tensor *x = vec((double[]){1, 2}, 2);
    st_set_requires_grad(x, true);
    st_no_grad_enter();
    st_no_grad_enter();
    st_no_grad_exit();
    CHECK(!st_is_grad_enabled());
    st_tensor *y = st_mul(x, x);
    CHECK(!st_requires_grad(y));
    CHECK(st_set_grad_enabled(true) == false); /* enabling inside a no_grad scope */
    st_tensor *y2 = st_mul(x, x);
    CHECK(st_requires_grad(y2));
    st_no_grad_exit();
    CHECK(st_is_grad_enabled());
    CHECK(st_set_grad_enabled(false) == true);
    st_no_grad_enter();
    st_no_grad_exit();
    CHECK(!st_is_grad_enabled());
    st_set_grad_enabled(true);
    st_release(y2);
    st_release(y);
    st_release(x);
}

TEST(detach_cuts_history) {
    /* z = detach(2x) * x: dz/dx = 2x (the detached factor is a constant) */
    st_tensor *x = vec((double[]){3}, 1);
    st_set_requires_grad(x, true);
    st_tensor *y = st_mul_scalar(x, 2), *d = st_detach(y);
    CHECK(!st_requires_grad(d) && st_is_leaf(d));
    st_tensor *z = st_mul(d, x), *l = st_sum(z, NULL, 0, false);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    CHECK_NEAR(at(st_grad(x), 0), 6.0, 1e-12);
    st_release(l);
    st_release(z);
    st_release(d);
    st_release(y);
    st_release(x);
}

TEST(dtype_and_mixed_promotion) {
    /* f32 leaf through to_dtype(f64): its grad is f32. f32 * f64 -> grads in each dtype. */
    float xf[2] = {1.5f, -2.0f};
    int64_t n = 2;
    st_tensor *a = st_from_data(xf, 1, &n, ST_F32), *b = vec((double[]){4, 5}, 2);
    st_set_requires_grad(a, true);
    st_set_requires_grad(b, true);
    st_tensor *a64 = st_to_dtype(a, ST_F64), *p = st_mul(a64, b), *q = st_mul(a, b);
    CHECK(st_get_dtype(q) == ST_F64);
    st_tensor *s = st_add(p, q), *l = st_sum(s, NULL, 0, false);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    CHECK(st_grad(a) && st_get_dtype(st_grad(a)) == ST_F32);
    CHECK(st_grad(b) && st_get_dtype(st_grad(b)) == ST_F64);
    CHECK_NEAR(at(st_grad(a), 1), 10.0, 1e-6);
    CHECK_NEAR(at(st_grad(b), 0), 3.0, 1e-6);
    st_release(l);
    st_release(s);
    st_release(q);
    st_release(p);
    st_release(a64);
    st_release(b);
    st_release(a);
}

TEST(views_share_gradient_paths) {
    /* x [2,3]; l = sum(x^T[0:2] * 2) + sum(x.reshape(6)) -> grad 3 at x[:, 0:2] (rows 0,1 of x^T) and 1 elsewhere */
    st_tensor *x = st_ones(2, (int64_t[]){2, 3}, ST_F64);
    st_set_requires_grad(x, true);
    st_tensor *t = st_transpose(x, 0, 1), *s = st_slice(t, 0, 0, 2, 1), *m = st_mul_scalar(s, 2);
    st_tensor *r = st_reshape(x, 1, (int64_t[]){6});
    st_tensor *l1 = st_sum(m, NULL, 0, false), *l2 = st_sum(r, NULL, 0, false), *l = st_add(l1, l2);
    CHECK_STATUS(st_backward(l, NULL), ST_OK);
    double g[6];
    CHECK_STATUS(st_to_host(st_grad(x), ST_F64, g, sizeof g), ST_OK);
    CHECK(g[0] == 3 && g[1] == 3 && g[2] == 1 && g[3] == 3 && g[4] == 3 && g[5] == 1);
    st_tensor *rel[] = {l, l2, l1, r, m, s, t, x};
    for (int i = 0; i < 8; i++) st_release(rel[i]);
}

TEST(graph_is_freed_with_its_outputs) {
    st_tensor *x = vec((double[]){1, 2, 3}, 3);
    st_set_requires_grad(x, true);
    int64_t base = live();
    st_tensor *y = st_exp(x), *z = st_mul(y, x), *l = st_sum(z, NULL, 0, false);
    st_release(z);
    st_release(y); /* the graph lives on through l */
    CHECK(live() > base);
    st_release(l); /* no backward: the whole tape goes */
    CHECK_MSG(live() == base, "live %lld, base %lld", (long long)live(), (long long)base);
    st_release(x);
}

TEST(long_chain_frees_without_recursion) {
    st_tensor *x = vec((double[]){1}, 1);
    st_set_requires_grad(x, true);
    int64_t base = live();
    st_tensor *h = st_retain(x);
    for (int i = 0; i < 200000; i++) {
        st_tensor *n = st_mul_scalar(h, 1.0);
        st_release(h);
        h = n;
    }
    CHECK_STATUS(st_backward(h, NULL), ST_OK);
    CHECK_NEAR(at(st_grad(x), 0), 1.0, 1e-12);
    st_grad_clear(x);
    st_release(h);
    CHECK(live() == base);
    st_release(x);
}

/* Fail the N-th allocation of a forward+backward, for every N until it succeeds:
 * no crash, a clean error, and nothing leaked. */
TEST(allocation_failures_during_backward) {
    tl_install_fault_allocator();
    st_tensor *x = st_ones(2, (int64_t[]){3, 4}, ST_F64), *w = st_ones(2, (int64_t[]){4, 2}, ST_F64);
    st_set_requires_grad(x, true);
    st_set_requires_grad(w, true);
    int64_t base = live();
    int ok = 0, failed = 0;
    for (int64_t n = 1; n < 400 && !ok; n++) {
        tl_fail_alloc_at(n);
        st_tensor *m = st_matmul(x, w), *t = m ? st_tanh(m) : NULL, *l = t ? st_mean(t, NULL, 0, false) : NULL;
        st_status s = l ? st_backward(l, NULL) : st_last_status();
        tl_fail_alloc_at(0);
        if (s == ST_OK && l) ok = 1;
        else {
            failed++;
            CHECK(s != ST_OK && st_last_error()[0] != 0);
        }
        st_release(l);
        st_release(t);
        st_release(m);
        st_grad_clear(x);
        st_grad_clear(w);
        CHECK_MSG(live() == base, "after failing allocation %lld: live %lld, base %lld", (long long)n,
                  (long long)live(), (long long)base);
    }
    CHECK(ok);
    CHECK_MSG(failed > 10, "only %d injected failures", failed);
    st_release(w);
    st_release(x);
}
