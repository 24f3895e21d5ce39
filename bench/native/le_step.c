/*
 * Native C baseline of one Latent Equilibrium Euler step for a layered MLP at batch 1, float32.
 *
 * The dynamics are those of emulator/reference.ts and RESEARCH.md section 1, in that order:
 *   A. basal_l = b_l + W_l s_l            s_1 = x^t (the current input), s_l = r_{l-1}^{t-1}
 *   B. du = (basal - u + e^{t-1}) / tau_m;  v = u + tau_r du  (from the OLD u);  ubrm = u + tau_m du
 *      u += dt du;  r = phi(v);  r' = phi'(v);  diff = ubrm - basal
 *   C. e_L^t = beta r'_L^{t-1} (y - r_L^{t-1});  e_{l-1}^t = r'_{l-1}^{t-1} * (W_l^T diff_l)   top down
 *   D. W_l += eta eta_l dt e_l^t s_prev^T (s_prev = x^t for l = 1, r_{l-1}^{t-1} above);
 *      b_l += eta eta_l dt e_l^t
 *   E. e <- e^t
 * Gain 1 and offset 0 (the ideal chip), no noise.
 *
 * Weight layout: [pre][post] row-major (the hardware layout of emulator/model.ts), each row padded
 * to a multiple of 16 floats. This layout is also the fastest for C here: the forward product is an
 * axpy over contiguous rows (basal += s_k W[k,:]), the transposed product a dot product of a
 * contiguous row with diff, and the rank-1 update an axpy per row; all three vectorise without
 * gathers, and they fuse into ONE pass over each matrix per step:
 *   for each row k of W_l:  down[k] = W[k,:] . diff_l          (C, the weights before this step's update)
 *                           W[k,:] += (rate s_prev[k]) e_l       (D)
 *                           next_l += s_next[k] W[k,:]           (A of the NEXT step, with the new W)
 * where s_next is x (layer 1; the input stays constant within one le_run call) or r_{l-1}^t. The
 * first step of each le_run call computes A unfused. Rows whose presynaptic signal is zero skip
 * their multiply-adds (as the reference's `if (sk === 0) continue`): exact, and what makes sparse
 * MNIST inputs cheap.
 *
 * Modes of the driver:
 *   le_step [--sizes 784,300,100,10] [--acts hardsigmoid,hardsigmoid,linear] [--steps N] [--runs R]
 *           [--steps-per-sample S] [--seed K] [--mode forward|train|both] [--inputs FILE]
 *       after a short training warm-up, runs N forward-only steps and N training steps on random
 *       data (dense inputs in [0, 1), a new sample every S steps) or on the samples of FILE
 *       (float32: per sample the inputs, then the targets), R times, and prints one JSON line with
 *       steps/s per run.
 *       --threads 2: the first layer's pass (its update and the next step's forward product, the
 *       bulk of the work) split by columns between this thread and a second one, each on a panel of
 *       its own columns; everything else on this thread; two spin hand-overs per step. Per element
 *       the same operations as one thread, so the results are identical. The division (columns
 *       per thread, in 16s) is the fastest of all divisions timed during the warm-up.
 *   le_step --check FILE [--out FILE] [--threads 2]
 *       steps a network given in the text format below and writes its trajectory (see writeTrace).
 *   le_step --mnist DIR [--epochs E] [--train N] [--test N] [--eta X] [--steps-per-sample S] [--seed K]
 *       trains the 784-300-100-10 MLP on MNIST IDX files and prints test accuracy per epoch.
 *
 * Check format (whitespace-separated tokens):
 *   lestep-check-1
 *   L                                    number of weight layers (populations 0..L, 0 the input)
 *   n_0 n_1 ... n_L                      sizes
 *   dt beta eta
 *   L lines: activation tau_m tau_r eta_scale   (activation: linear | tanh | hardsigmoid)
 *   L blocks: W_l, n_{l-1} * n_l floats in [pre][post] order
 *   L blocks: b_l, n_l floats
 *   learn nudge                          0 or 1 each
 *   samples steps_per_sample
 *   per sample: x (n_0 floats) then y (n_L floats)
 */
#define _POSIX_C_SOURCE 200112L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALIGN 64
#define LANES 16 /* row padding in floats: one 512-bit vector */

enum { ACT_LINEAR = 0, ACT_TANH = 1, ACT_HARDSIGMOID = 4 };

typedef struct {
  int L;              /* weight layers; populations 0..L */
  int n[16];          /* sizes */
  int stride[16];     /* padded sizes */
  int act[16];        /* activation per population 1..L */
  float tau_m[16], tau_r[16], inv_tau_m[16], eta_scale[16];
  float dt, beta, eta;
  float *W[16];       /* W[l]: [n[l-1]][stride[l]] */
  float *b[16];
  float *u[16], *r[16], *rp[16], *r_prev[16], *rp_prev[16], *e[16], *e_new[16];
  float *wsum[16];    /* W_l s of the step about to run */
  float *diff[16];
  float *down;        /* scratch, longest population */
  float *zeros;       /* input when none is set */
} Net;

static void die(const char *msg) {
  fprintf(stderr, "le_step: %s\n", msg);
  exit(1);
}

static float *falloc(size_t n) {
  size_t bytes = ((n * sizeof(float) + ALIGN - 1) / ALIGN) * ALIGN;
  if (bytes == 0) bytes = ALIGN;
  float *p = aligned_alloc(ALIGN, bytes);
  if (!p) die("out of memory");
  memset(p, 0, bytes);
  return p;
}

static int pad(int n) { return (n + LANES - 1) / LANES * LANES; }

/* Allocates a network of the given sizes with zero weights and state. */
static void net_init(Net *net, int L, const int *sizes) {
  if (L < 1 || L > 15) die("between 1 and 15 weight layers");
  memset(net, 0, sizeof *net);
  net->L = L;
  int longest = 0;
  for (int l = 0; l <= L; l++) {
    if (sizes[l] < 1) die("layer sizes must be positive");
    net->n[l] = sizes[l];
    net->stride[l] = pad(sizes[l]);
    if (net->stride[l] > longest) longest = net->stride[l];
  }
  for (int l = 1; l <= L; l++) {
    int s = net->stride[l];
    net->W[l] = falloc((size_t)net->n[l - 1] * s);
    net->b[l] = falloc(s);
    net->u[l] = falloc(s); net->r[l] = falloc(s); net->rp[l] = falloc(s);
    net->r_prev[l] = falloc(s); net->rp_prev[l] = falloc(s);
    net->e[l] = falloc(s); net->e_new[l] = falloc(s);
    net->wsum[l] = falloc(s); net->diff[l] = falloc(s);
  }
  net->down = falloc(longest);
  net->zeros = falloc(net->stride[0]);
}

static void net_set_layer(Net *net, int l, int act, float tau_m, float tau_r, float eta_scale) {
  net->act[l] = act;
  net->tau_m[l] = tau_m;
  net->tau_r[l] = tau_r;
  net->inv_tau_m[l] = 1.0f / tau_m;
  net->eta_scale[l] = eta_scale;
}

static void swap(float **a, float **b) { float *t = *a; *a = *b; *b = t; }

/* ---------------------------------------------------------------------------------------------- */
/* Two threads: the first layer's columns [c0, c0 + width) of thread t live in panels[t] ([rows][width]). */

typedef struct {
  float *W;
  int c0, width;
} Panel;

static int nthreads = 1;
static Panel panels[2];
/* The job thread 1 runs: the arguments of layer 1's row pass (its own columns taken from its panel). */
static struct {
  const float *e, *s_prev, *s_next;
  float *next;
  int rows, learn, more;
  float rate;
} job;
static _Atomic unsigned go_count, done_count;
static _Atomic int quit;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static void row_pass_dispatch(float *W, int rows, int stride, const float *diff, const float *e, float *next,
                              float *down, const float *s_prev, float rate, const float *s_next, int bwd, int upd,
                              int fwd);

static void *worker(void *arg) {
  (void)arg;
  unsigned seen = 0;
  for (;;) {
    unsigned g;
    while ((g = atomic_load_explicit(&go_count, memory_order_acquire)) == seen) {
      if (atomic_load_explicit(&quit, memory_order_relaxed)) return NULL;
      cpu_relax();
    }
    seen = g;
    const Panel *p = &panels[1];
    row_pass_dispatch(p->W, job.rows, p->width, NULL, job.e + p->c0, job.next + p->c0, NULL, job.s_prev, job.rate,
                      job.s_next, 0, job.learn, job.more);
    atomic_store_explicit(&done_count, g, memory_order_release);
  }
}

/* Copies layer 1's weights into two panels split at column c0 (a multiple of 16). */
static void panels_split(const float *W, int rows, int stride, int c0) {
  const int w[2] = {c0, stride - c0};
  for (int t = 0; t < 2; t++) {
    free(panels[t].W);
    panels[t].W = falloc((size_t)rows * w[t]);
    panels[t].c0 = t ? c0 : 0;
    panels[t].width = w[t];
    for (int k = 0; k < rows; k++) memcpy(panels[t].W + (size_t)k * w[t], W + (size_t)k * stride + panels[t].c0, sizeof(float) * w[t]);
  }
}

/* Copies the panels back into layer 1's weights. */
static void panels_gather(float *W, int rows, int stride) {
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < rows; k++) memcpy(W + (size_t)k * stride + panels[t].c0, panels[t].W + (size_t)k * panels[t].width, sizeof(float) * panels[t].width);
}

static pthread_t worker_thread;

static void threads_start(void) {
  atomic_store(&quit, 0);
  if (pthread_create(&worker_thread, NULL, worker, NULL) != 0) die("cannot start the second thread");
}

static void threads_stop(void) {
  atomic_store(&quit, 1);
  pthread_join(worker_thread, NULL);
}

/* The presynaptic signal of layer l: x for l = 1, else the rates of population l-1. */
static inline const float *presyn(int l, const float *x, float *const *r) {
  return l == 1 ? x : r[l - 1];
}

/* acc += s[k] W[k,:] over all rows with s[k] != 0 (step A). */
static void matvec_acc(const float *restrict W, const float *restrict s, int rows, int stride, float *restrict acc) {
  acc = __builtin_assume_aligned(acc, ALIGN);
  for (int k = 0; k < rows; k++) {
    const float sk = s[k];
    if (sk == 0.0f) continue;
    const float *restrict w = __builtin_assume_aligned(W + (size_t)k * stride, ALIGN);
    for (int i = 0; i < stride; i++) acc[i] += sk * w[i];
  }
}

/* Step A for every layer, unfused: wsum_l = W_l s_l. */
static void forward_all(Net *net, const float *x) {
  for (int l = 1; l <= net->L; l++) {
    memset(net->wsum[l], 0, sizeof(float) * net->stride[l]);
    if (l == 1 && nthreads == 2)
      for (int t = 0; t < 2; t++) matvec_acc(panels[t].W, x, net->n[0], panels[t].width, net->wsum[1] + panels[t].c0);
    else
      matvec_acc(net->W[l], presyn(l, x, net->r), net->n[l - 1], net->stride[l], net->wsum[l]);
  }
}

/* Step B for population l: reads wsum, b, u, e (previous); writes u, r, rp, diff. */
static void neurons(Net *net, int l) {
  const int n = net->stride[l];
  float *restrict u = __builtin_assume_aligned(net->u[l], ALIGN);
  float *restrict r = __builtin_assume_aligned(net->r[l], ALIGN);
  float *restrict rp = __builtin_assume_aligned(net->rp[l], ALIGN);
  float *restrict diff = __builtin_assume_aligned(net->diff[l], ALIGN);
  const float *restrict ws = __builtin_assume_aligned(net->wsum[l], ALIGN);
  const float *restrict b = __builtin_assume_aligned(net->b[l], ALIGN);
  const float *restrict e = __builtin_assume_aligned(net->e[l], ALIGN);
  const float inv_tm = net->inv_tau_m[l], tm = net->tau_m[l], tr = net->tau_r[l], dt = net->dt;
  // One loop per activation so each vectorises without a branch inside.
  switch (net->act[l]) {
    case ACT_HARDSIGMOID:
      for (int i = 0; i < n; i++) {
        const float basal = b[i] + ws[i];
        const float du = (basal - u[i] + e[i]) * inv_tm;
        const float v = u[i] + tr * du;
        diff[i] = (u[i] + tm * du) - basal;
        u[i] += dt * du;
        r[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        rp[i] = (v >= 0.0f && v <= 1.0f) ? 1.0f : 0.0f;
      }
      break;
    case ACT_TANH:
      for (int i = 0; i < n; i++) {
        const float basal = b[i] + ws[i];
        const float du = (basal - u[i] + e[i]) * inv_tm;
        const float v = u[i] + tr * du;
        diff[i] = (u[i] + tm * du) - basal;
        u[i] += dt * du;
        const float t = tanhf(v);
        r[i] = t;
        rp[i] = 1.0f - t * t;
      }
      break;
    default: /* linear */
      for (int i = 0; i < n; i++) {
        const float basal = b[i] + ws[i];
        const float du = (basal - u[i] + e[i]) * inv_tm;
        const float v = u[i] + tr * du;
        diff[i] = (u[i] + tm * du) - basal;
        u[i] += dt * du;
        r[i] = v;
        rp[i] = 1.0f;
      }
  }
  // Padding lanes must stay zero: they take part in the padded row loops.
  for (int i = net->n[l]; i < n; i++) u[i] = r[i] = rp[i] = diff[i] = 0.0f;
}

/*
 * One fused pass over the rows of W (see the file comment). BWD: compute down[k] = W[k,:].diff;
 * UPD: W[k,:] += c_k e; FWD: next += sn_k W[k,:]. Rows with c_k = 0 skip the update, rows with
 * sn_k = 0 skip the forward product. Inlined with constant flags, so each combination is its own
 * branch-free vectorised loop.
 */
static inline __attribute__((always_inline)) void row_pass(
    float *restrict W, int rows, int stride, const float *restrict diff, const float *restrict e,
    float *restrict next, float *restrict down, const float *restrict s_prev, float rate,
    const float *restrict s_next, const int BWD, const int UPD, const int FWD) {
  diff = __builtin_assume_aligned(diff, ALIGN);
  e = __builtin_assume_aligned(e, ALIGN);
  next = __builtin_assume_aligned(next, ALIGN);
  for (int k = 0; k < rows; k++) {
    float *restrict w = __builtin_assume_aligned(W + (size_t)k * stride, ALIGN);
    const float c = UPD ? rate * s_prev[k] : 0.0f;
    const float sn = FWD ? s_next[k] : 0.0f;
    const int upd = UPD && c != 0.0f, fwd = FWD && sn != 0.0f;
    if (BWD) {
      float acc = 0.0f;
      if (upd && fwd) {
        for (int i = 0; i < stride; i++) { acc += w[i] * diff[i]; w[i] += c * e[i]; next[i] += sn * w[i]; }
      } else if (upd) {
        for (int i = 0; i < stride; i++) { acc += w[i] * diff[i]; w[i] += c * e[i]; }
      } else if (fwd) {
        for (int i = 0; i < stride; i++) { acc += w[i] * diff[i]; next[i] += sn * w[i]; }
      } else {
        for (int i = 0; i < stride; i++) acc += w[i] * diff[i];
      }
      down[k] = acc;
    } else {
      if (upd && fwd) {
        for (int i = 0; i < stride; i++) { w[i] += c * e[i]; next[i] += sn * w[i]; }
      } else if (upd) {
        for (int i = 0; i < stride; i++) w[i] += c * e[i];
      } else if (fwd) {
        for (int i = 0; i < stride; i++) next[i] += sn * w[i];
      }
    }
  }
}

static void row_pass_dispatch(float *W, int rows, int stride, const float *diff, const float *e, float *next,
                              float *down, const float *s_prev, float rate, const float *s_next, int bwd, int upd,
                              int fwd) {
  switch ((bwd << 2) | (upd << 1) | fwd) {
    case 7: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 1, 1, 1); break;
    case 6: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 1, 1, 0); break;
    case 5: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 1, 0, 1); break;
    case 4: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 1, 0, 0); break;
    case 3: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 0, 1, 1); break;
    case 2: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 0, 1, 0); break;
    case 1: row_pass(W, rows, stride, diff, e, next, down, s_prev, rate, s_next, 0, 0, 1); break;
    default: break;
  }
}

/*
 * Runs `steps` Euler steps with constant input x (n_0 values) and target y (n_L values, or NULL:
 * no nudging). learn: plasticity on. Errors are computed when learning or nudging; otherwise
 * (inference) they are zero, as they are analytically, and the error pass is skipped.
 */
static void le_run(Net *net, const float *x, const float *y, int steps, int learn) {
  const int L = net->L;
  const int errors = learn || y != NULL;
  if (!x) x = net->zeros;
  forward_all(net, x);
  if (!errors)
    for (int l = 1; l <= L; l++) memset(net->e[l], 0, sizeof(float) * net->stride[l]);
  for (int t = 0; t < steps; t++) {
    const int more = t + 1 < steps; /* whether to compute the next step's A in this pass */
    // r_prev, rp_prev <- values of the previous step; the step writes new r, rp.
    for (int l = 1; l <= L; l++) { swap(&net->r[l], &net->r_prev[l]); swap(&net->rp[l], &net->rp_prev[l]); }
    for (int l = 1; l <= L; l++) neurons(net, l);
    if (!errors) {
      if (more) forward_all(net, x);
      continue;
    }
    // C (output): e_L = beta r'_prev (y - r_prev), zero without a target.
    float *restrict eo = net->e_new[L];
    if (y) {
      const float *rpL = net->rp_prev[L], *rL = net->r_prev[L];
      for (int i = 0; i < net->n[L]; i++) eo[i] = net->beta * rpL[i] * (y[i] - rL[i]);
    } else {
      memset(eo, 0, sizeof(float) * net->stride[L]);
    }
    // C, D and the next A, top down, one pass over each matrix.
    for (int l = L; l >= 1; l--) {
      const int rows = net->n[l - 1], stride = net->stride[l];
      const float rate = net->eta * net->eta_scale[l] * net->dt;
      const float *s_prev = presyn(l, x, net->r_prev);
      const float *s_next = presyn(l, x, net->r);
      if (more) memset(net->wsum[l], 0, sizeof(float) * stride);
      if (l == 1 && nthreads == 2) {
        // Thread 1 takes its panel's columns, this thread the first panel's; then wait for it.
        job.e = net->e_new[1]; job.next = net->wsum[1]; job.s_prev = s_prev; job.s_next = s_next;
        job.rows = rows; job.learn = learn; job.more = more; job.rate = rate;
        const unsigned g = atomic_load_explicit(&go_count, memory_order_relaxed) + 1;
        atomic_store_explicit(&go_count, g, memory_order_release);
        row_pass_dispatch(panels[0].W, rows, panels[0].width, NULL, net->e_new[1], net->wsum[1], NULL, s_prev, rate, s_next, 0,
                          learn, more);
        while (atomic_load_explicit(&done_count, memory_order_acquire) != g) cpu_relax();
      } else {
        row_pass_dispatch(net->W[l], rows, stride, net->diff[l], net->e_new[l], net->wsum[l], net->down, s_prev, rate,
                          s_next, l > 1, learn, more);
      }
      if (l > 1) {
        float *restrict en = net->e_new[l - 1];
        const float *restrict rpp = net->rp_prev[l - 1];
        for (int k = 0; k < rows; k++) en[k] = rpp[k] * net->down[k];
      }
      if (learn) {
        float *restrict b = net->b[l];
        const float *restrict en = net->e_new[l];
        for (int i = 0; i < stride; i++) b[i] += rate * en[i];
      }
    }
    for (int l = 1; l <= L; l++) swap(&net->e[l], &net->e_new[l]);
  }
}

/* ---------------------------------------------------------------------------------------------- */
/* Seeded random numbers: splitmix64, Box-Muller normals. */

static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static double rng_uniform(void) { return (rng_next() >> 11) * (1.0 / 9007199254740992.0); }
static double rng_normal(void) {
  double u1 = rng_uniform(), u2 = rng_uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* W, b ~ N(0, scale^2) (the LE reference's initialisation). */
static void net_randomise(Net *net, double scale) {
  for (int l = 1; l <= net->L; l++) {
    for (int k = 0; k < net->n[l - 1]; k++)
      for (int i = 0; i < net->n[l]; i++) net->W[l][(size_t)k * net->stride[l] + i] = (float)(scale * rng_normal());
    for (int i = 0; i < net->n[l]; i++) net->b[l][i] = (float)(scale * rng_normal());
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_act(const char *s) {
  if (!strcmp(s, "linear")) return ACT_LINEAR;
  if (!strcmp(s, "tanh")) return ACT_TANH;
  if (!strcmp(s, "hardsigmoid")) return ACT_HARDSIGMOID;
  fprintf(stderr, "le_step: unknown activation '%s' (linear, tanh, hardsigmoid)\n", s);
  exit(1);
}
static const char *act_name(int a) { return a == ACT_TANH ? "tanh" : a == ACT_HARDSIGMOID ? "hardsigmoid" : "linear"; }

/* ---------------------------------------------------------------------------------------------- */
/* Benchmark mode. */

/* kinds: 1 forward, 2 train, 3 both (alternating per run); inputs: a bank file or NULL (random dense). */
static int bench(int L, const int *sizes, const int *acts, long steps, int runs, int sps, uint64_t seed, int kinds, const char *inputs) {
  Net net;
  net_init(&net, L, sizes);
  net.dt = 0.01f; net.beta = 0.1f; net.eta = 0.5f;
  for (int l = 1; l <= L; l++) net_set_layer(&net, l, acts[l], 20.0f, 20.0f, l == 1 ? 1.0f : l == 2 ? 0.2f : 0.1f);
  rng_state = seed;
  net_randomise(&net, 0.05);
  // A bank of inputs and targets, a new sample every `sps` steps: random dense inputs in [0, 1)
  // with one-hot targets, or the samples of an --inputs file (float32 little-endian, per sample
  // sizes[0] inputs then sizes[L] targets; the bench's MNIST images).
  int bank = 64;
  float *xs, *ys;
  if (inputs) {
    FILE *f = fopen(inputs, "rb");
    if (!f) die("--inputs: cannot open the file");
    fseek(f, 0, SEEK_END);
    const long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    const long per = 4L * (sizes[0] + sizes[L]);
    if (bytes <= 0 || bytes % per != 0) die("--inputs: the file is not whole samples of float32 inputs and targets for --sizes");
    bank = (int)(bytes / per);
    xs = falloc((size_t)bank * sizes[0]);
    ys = falloc((size_t)bank * sizes[L]);
    for (int s = 0; s < bank; s++) {
      if (fread(xs + (size_t)s * sizes[0], 4, sizes[0], f) != (size_t)sizes[0] || fread(ys + (size_t)s * sizes[L], 4, sizes[L], f) != (size_t)sizes[L])
        die("--inputs: short read");
    }
    fclose(f);
  } else {
    xs = falloc((size_t)bank * sizes[0]);
    ys = falloc((size_t)bank * sizes[L]);
    for (int s = 0; s < bank; s++) {
      for (int k = 0; k < sizes[0]; k++) xs[(size_t)s * sizes[0] + k] = (float)rng_uniform();
      ys[(size_t)s * sizes[L] + (rng_next() % sizes[L])] = 1.0f;
    }
  }
  int division = 0;
  if (nthreads == 2) {
    // The division of the first layer's columns: each candidate timed on training steps of a
    // network of its own (so the timed network steps exactly as with one thread), the fastest kept.
    const int stride1 = pad(sizes[1]);
    if (stride1 < 2 * LANES) die("--threads 2 needs a first layer of more than 16 neurons");
    Net trial;
    net_init(&trial, L, sizes);
    trial.dt = net.dt; trial.beta = net.beta; trial.eta = net.eta;
    for (int l = 1; l <= L; l++) net_set_layer(&trial, l, acts[l], 20.0f, 20.0f, net.eta_scale[l]);
    const uint64_t saved = rng_state;
    rng_state = seed ^ 0x5eedull;
    net_randomise(&trial, 0.05);
    rng_state = saved;
    threads_start();
    double best = 0;
    const int per = (int)(steps / 40 < 2 * sps ? 2 * sps : steps / 40);
    for (int c0 = LANES; c0 < stride1; c0 += LANES) {
      panels_split(trial.W[1], sizes[0], stride1, c0);
      double el = 0;
      for (int rep = 0; rep < 2; rep++) {
        const double t0 = now_s();
        for (int done = 0, s = 0; done < per; done += sps, s++) le_run(&trial, xs + (size_t)(s % bank) * sizes[0], ys + (size_t)(s % bank) * sizes[L], sps, 1);
        const double t = now_s() - t0;
        if (rep == 1) el = t;
      }
      panels_gather(trial.W[1], sizes[0], stride1);
      if (best == 0 || per / el > best) { best = per / el; division = c0; }
    }
    panels_split(net.W[1], sizes[0], stride1, division);
  }
  double *fw = calloc(runs, sizeof(double)), *tr = calloc(runs, sizeof(double));
  for (int mode = -1; mode < 2 * runs; mode++) {
    // mode -1: warm-up (training, a tenth of the steps); then forward and train alternate per run.
    const int learn = mode < 0 || (mode & 1);
    if (mode >= 0 && !(kinds & (learn ? 2 : 1))) continue;
    const long n = mode < 0 ? steps / 10 + 1 : steps;
    long done = 0;
    int s = 0;
    const double t0 = now_s();
    while (done < n) {
      const int chunk = (int)(n - done < sps ? n - done : sps);
      le_run(&net, xs + (size_t)(s % bank) * sizes[0], learn ? ys + (size_t)(s % bank) * sizes[L] : NULL, chunk, learn);
      done += chunk;
      s++;
    }
    const double el = now_s() - t0;
    if (mode >= 0) (learn ? tr : fw)[mode / 2] = n / el;
  }
  if (nthreads == 2) {
    threads_stop();
    panels_gather(net.W[1], sizes[0], net.stride[1]);
  }
  // Keeps the optimiser from discarding the work; the weights' sum tells runs on 1 and 2 threads apart.
  double check = 0, wsum = 0;
  for (int i = 0; i < sizes[L]; i++) check += net.r[L][i];
  for (int l = 1; l <= L; l++)
    for (int k = 0; k < sizes[l - 1]; k++)
      for (int i = 0; i < sizes[l]; i++) wsum += net.W[l][(size_t)k * net.stride[l] + i];
  printf("{\"sizes\":[");
  for (int l = 0; l <= L; l++) printf("%s%d", l ? "," : "", sizes[l]);
  printf("],\"activations\":[");
  for (int l = 1; l <= L; l++) printf("%s\"%s\"", l > 1 ? "," : "", act_name(acts[l]));
  printf("],\"steps\":%ld,\"steps_per_sample\":%d,\"runs\":%d,\"seed\":%llu,\"bank\":%d,\"forward_steps_per_s\":[", steps, sps, runs,
         (unsigned long long)seed, bank);
  for (int i = 0; i < runs && (kinds & 1); i++) printf("%s%.1f", i ? "," : "", fw[i]);
  printf("],\"train_steps_per_s\":[");
  for (int i = 0; i < runs && (kinds & 2); i++) printf("%s%.1f", i ? "," : "", tr[i]);
  // The share of nonzero presynaptic rates at the end: rows with a zero rate skip their products.
  printf("],\"output_checksum\":%.6g,\"weights_checksum\":%.17g,\"threads\":%d,\"division\":[%d,%d],\"layout\":\"pre-post\",\"nonzero_rate_fraction\":[",
         check, wsum, nthreads, nthreads == 2 ? division : pad(sizes[1]), nthreads == 2 ? pad(sizes[1]) - division : 0);
  for (int l = 1; l < L; l++) {
    int nz = 0;
    for (int i = 0; i < sizes[l]; i++) nz += net.r[l][i] != 0.0f;
    printf("%s%.3f", l > 1 ? "," : "", (double)nz / sizes[l]);
  }
  printf("]}\n");
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Check mode. */

static char *tok_buf;
static char *tok_pos;
static char *next_tok(void) {
  char *p = tok_pos;
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  if (!*p) die("check file ends early");
  char *start = p;
  while (*p && *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') p++;
  if (*p) *p++ = 0;
  tok_pos = p;
  return start;
}
static double next_num(void) {
  char *t = next_tok(), *end;
  double v = strtod(t, &end);
  if (*end) { fprintf(stderr, "le_step: not a number: '%s'\n", t); exit(1); }
  return v;
}

static void write_vec(FILE *f, const char *tag, int l, const float *v, int n) {
  fprintf(f, "%s %d", tag, l);
  for (int i = 0; i < n; i++) fprintf(f, " %.9g", v[i]);
  fputc('\n', f);
}

/*
 * Trajectory: after every step `step K` then `u l ...`, `r l ...`, `e l ...` for l = 1..L; at the
 * end `W l ...` (n_{l-1} * n_l values, [pre][post]) and `b l ...`.
 */
static int check(const char *in, const char *out) {
  FILE *f = fopen(in, "rb");
  if (!f) die("cannot open the check file");
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  tok_buf = malloc(len + 1);
  if (fread(tok_buf, 1, len, f) != (size_t)len) die("cannot read the check file");
  tok_buf[len] = 0;
  fclose(f);
  tok_pos = tok_buf;
  if (strcmp(next_tok(), "lestep-check-1")) die("not a lestep-check-1 file");
  int L = (int)next_num();
  if (L < 1 || L > 15) die("between 1 and 15 weight layers");
  int sizes[16];
  for (int l = 0; l <= L; l++) sizes[l] = (int)next_num();
  Net net;
  net_init(&net, L, sizes);
  net.dt = (float)next_num(); net.beta = (float)next_num(); net.eta = (float)next_num();
  for (int l = 1; l <= L; l++) {
    int act = parse_act(next_tok());
    float tm = (float)next_num(), trr = (float)next_num(), es = (float)next_num();
    net_set_layer(&net, l, act, tm, trr, es);
  }
  for (int l = 1; l <= L; l++)
    for (int k = 0; k < sizes[l - 1]; k++)
      for (int i = 0; i < sizes[l]; i++) net.W[l][(size_t)k * net.stride[l] + i] = (float)next_num();
  for (int l = 1; l <= L; l++)
    for (int i = 0; i < sizes[l]; i++) net.b[l][i] = (float)next_num();
  int learn = (int)next_num(), nudge = (int)next_num();
  int samples = (int)next_num(), sps = (int)next_num();
  if (nthreads == 2) {
    // The first layer's columns halved (in 16s) between the two threads.
    if (net.stride[1] < 2 * LANES) die("--threads 2 needs a first layer of more than 16 neurons");
    panels_split(net.W[1], sizes[0], net.stride[1], net.stride[1] / 2 / LANES * LANES);
    threads_start();
  }
  float *x = falloc(net.stride[0]), *y = falloc(net.stride[L]);
  FILE *o = out ? fopen(out, "w") : stdout;
  if (!o) die("cannot write the trajectory file");
  long step = 0;
  for (int s = 0; s < samples; s++) {
    for (int k = 0; k < sizes[0]; k++) x[k] = (float)next_num();
    for (int i = 0; i < sizes[L]; i++) y[i] = (float)next_num();
    // One step per call, so the trajectory can be written after each.
    for (int t = 0; t < sps; t++) {
      le_run(&net, x, nudge ? y : NULL, 1, learn);
      fprintf(o, "step %ld\n", ++step);
      for (int l = 1; l <= L; l++) {
        write_vec(o, "u", l, net.u[l], sizes[l]);
        write_vec(o, "r", l, net.r[l], sizes[l]);
        write_vec(o, "e", l, net.e[l], sizes[l]);
      }
    }
  }
  if (nthreads == 2) {
    threads_stop();
    panels_gather(net.W[1], sizes[0], net.stride[1]);
  }
  for (int l = 1; l <= L; l++) {
    fprintf(o, "W %d", l);
    for (int k = 0; k < sizes[l - 1]; k++)
      for (int i = 0; i < sizes[l]; i++) fprintf(o, " %.9g", net.W[l][(size_t)k * net.stride[l] + i]);
    fputc('\n', o);
  }
  for (int l = 1; l <= L; l++) write_vec(o, "b", l, net.b[l], sizes[l]);
  if (o != stdout) fclose(o);
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* MNIST mode. */

static unsigned char *read_idx(const char *dir, const char *name, int dims, int *count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "le_step: cannot open %s\n", path); exit(1); }
  unsigned char h[16];
  int hl = 4 + 4 * dims;
  if (fread(h, 1, hl, f) != (size_t)hl) die("short IDX header");
  if (h[0] || h[1] || h[2] != 8 || h[3] != dims) die("not an unsigned-byte IDX file");
  long items = 1;
  for (int d = 0; d < dims; d++) {
    long v = ((long)h[4 + 4 * d] << 24) | (h[5 + 4 * d] << 16) | (h[6 + 4 * d] << 8) | h[7 + 4 * d];
    if (d == 0) *count = (int)v;
    items *= v;
  }
  unsigned char *data = malloc(items);
  if (fread(data, 1, items, f) != (size_t)items) die("short IDX data");
  fclose(f);
  return data;
}

static int mnist(const char *dir, int epochs, int ntrain, int ntest, float eta, int sps, uint64_t seed) {
  int ntr_all, nlab, nte_all, nlab_te;
  unsigned char *tr_img = read_idx(dir, "train-images-idx3-ubyte", 3, &ntr_all);
  unsigned char *tr_lab = read_idx(dir, "train-labels-idx1-ubyte", 1, &nlab);
  unsigned char *te_img = read_idx(dir, "t10k-images-idx3-ubyte", 3, &nte_all);
  unsigned char *te_lab = read_idx(dir, "t10k-labels-idx1-ubyte", 1, &nlab_te);
  if (ntrain > 50000) ntrain = 50000; /* the last 10 000 are the validation set */
  if (ntest > nte_all) ntest = nte_all;
  const int sizes[4] = {784, 300, 100, 10};
  Net net;
  net_init(&net, 3, sizes);
  net.dt = 0.01f; net.beta = 0.1f; net.eta = eta;
  net_set_layer(&net, 1, ACT_HARDSIGMOID, 20.0f, 20.0f, 1.0f);
  net_set_layer(&net, 2, ACT_HARDSIGMOID, 20.0f, 20.0f, 0.2f);
  net_set_layer(&net, 3, ACT_LINEAR, 20.0f, 20.0f, 0.1f);
  rng_state = seed;
  net_randomise(&net, 0.05);
  float *x = falloc(pad(784)), *y = falloc(16);
  double train_s = 0, test_s = 0;
  double acc = 0;
  fprintf(stderr, "le_step: MNIST 784-300-100-10, %d train / %d test samples, %d steps each, eta %g\n", ntrain, ntest,
          sps, eta);
  for (int ep = 1; ep <= epochs; ep++) {
    double t0 = now_s();
    // Training in file order (the first ntrain images), state never reset.
    for (int s = 0; s < ntrain; s++) {
      for (int k = 0; k < 784; k++) x[k] = tr_img[(size_t)s * 784 + k] / 256.0f;
      memset(y, 0, sizeof(float) * 10);
      y[tr_lab[s]] = 1.0f;
      le_run(&net, x, y, sps, 1);
    }
    double t1 = now_s();
    int correct = 0;
    for (int s = 0; s < ntest; s++) {
      for (int k = 0; k < 784; k++) x[k] = te_img[(size_t)s * 784 + k] / 256.0f;
      le_run(&net, x, NULL, sps, 0);
      int best = 0;
      for (int i = 1; i < 10; i++) if (net.r[3][i] > net.r[3][best]) best = i;
      correct += best == te_lab[s];
    }
    double t2 = now_s();
    train_s += t1 - t0;
    test_s += t2 - t1;
    acc = (double)correct / ntest;
    fprintf(stderr, "le_step: epoch %d test accuracy %.4f (train %.1f s, %.0f steps/s; test %.1f s)\n", ep, acc, t1 - t0,
            (double)ntrain * sps / (t1 - t0), t2 - t1);
    printf("{\"epoch\":%d,\"test_accuracy\":%.4f,\"train_samples\":%d,\"test_samples\":%d,\"steps_per_sample\":%d,"
           "\"eta\":%g,\"train_s\":%.2f,\"test_s\":%.2f,\"train_steps_per_s\":%.1f,\"seed\":%llu}\n",
           ep, acc, ntrain, ntest, sps, eta, t1 - t0, t2 - t1, (double)ntrain * sps / (t1 - t0), (unsigned long long)seed);
    fflush(stdout);
  }
  (void)nlab; (void)nlab_te; (void)train_s; (void)test_s; (void)acc;
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */

static int parse_list(const char *s, int *out, int max) {
  int n = 0;
  const char *p = s;
  while (*p && n < max) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) die("bad --sizes list");
    out[n++] = (int)v;
    p = *end == ',' ? end + 1 : end;
  }
  return n;
}

int main(int argc, char **argv) {
  int sizes[16] = {784, 300, 100, 10}, nsizes = 4;
  int acts[16] = {0, ACT_HARDSIGMOID, ACT_HARDSIGMOID, ACT_LINEAR};
  int acts_given = 0;
  long steps = 20000;
  int runs = 5, sps = 100, epochs = 1, ntrain = 50000, ntest = 10000;
  float eta = 0.5f;
  uint64_t seed = 1;
  int kinds = 3;
  const char *check_in = NULL, *check_out = NULL, *mnist_dir = NULL, *inputs = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED() do { if (!v) { fprintf(stderr, "le_step: %s needs a value\n", a); return 2; } i++; } while (0)
    if (!strcmp(a, "--sizes")) { NEED(); nsizes = parse_list(v, sizes, 16); }
    else if (!strcmp(a, "--acts")) {
      NEED();
      char buf[1024];
      snprintf(buf, sizeof buf, "%s", v);
      int l = 1;
      for (char *t = strtok(buf, ","); t && l < 16; t = strtok(NULL, ",")) acts[l++] = parse_act(t);
      acts_given = l - 1;
    }
    else if (!strcmp(a, "--steps")) { NEED(); steps = atol(v); }
    else if (!strcmp(a, "--runs")) { NEED(); runs = atoi(v); }
    else if (!strcmp(a, "--steps-per-sample")) { NEED(); sps = atoi(v); }
    else if (!strcmp(a, "--seed")) { NEED(); seed = strtoull(v, NULL, 10); }
    else if (!strcmp(a, "--mode")) {
      NEED();
      kinds = !strcmp(v, "forward") ? 1 : !strcmp(v, "train") ? 2 : !strcmp(v, "both") ? 3 : 0;
      if (!kinds) die("--mode is forward, train or both");
    }
    else if (!strcmp(a, "--check")) { NEED(); check_in = v; }
    else if (!strcmp(a, "--out")) { NEED(); check_out = v; }
    else if (!strcmp(a, "--mnist")) { NEED(); mnist_dir = v; }
    else if (!strcmp(a, "--inputs")) { NEED(); inputs = v; }
    else if (!strcmp(a, "--epochs")) { NEED(); epochs = atoi(v); }
    else if (!strcmp(a, "--train")) { NEED(); ntrain = atoi(v); }
    else if (!strcmp(a, "--test")) { NEED(); ntest = atoi(v); }
    else if (!strcmp(a, "--eta")) { NEED(); eta = (float)atof(v); }
    else if (!strcmp(a, "--threads")) {
      NEED();
      nthreads = atoi(v);
      if (nthreads != 1 && nthreads != 2) { fprintf(stderr, "le_step: --threads is 1 or 2\n"); return 2; }
    }
    else { fprintf(stderr, "le_step: unknown option %s\n", a); return 2; }
  }
  if (check_in) return check(check_in, check_out);
  if (mnist_dir && nthreads != 1) die("--mnist runs on one thread");
  if (mnist_dir) return mnist(mnist_dir, epochs, ntrain, ntest, eta, sps, seed);
  if (nsizes < 2) die("--sizes needs at least two layers");
  if (steps < 1 || runs < 1 || sps < 1) die("--steps, --runs and --steps-per-sample must be positive");
  int L = nsizes - 1;
  if (acts_given && acts_given != L) die("--acts needs one activation per non-input layer");
  if (!acts_given && L != 3)
    for (int l = 1; l <= L; l++) acts[l] = l == L ? ACT_LINEAR : ACT_HARDSIGMOID;
  return bench(L, sizes, acts, steps, runs, sps, seed, kinds, inputs);
}
