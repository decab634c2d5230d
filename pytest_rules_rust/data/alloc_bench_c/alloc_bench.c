/* C twin of fixture_workspaces/alloc_bench: the same workloads, PRNG, sizes and JSON line.
 *
 * Built statically with musl-gcc against musl's malloc, jemalloc or mimalloc (linked in, replacing
 * malloc/free), so when Rust and C agree the numbers measure the allocator, not the language.
 *
 *   alloc_bench [--workload larson|xmalloc|baseline] [--threads N] [--ops N] [--seed N]
 *
 * --ops is the number of allocations per thread (a fixed amount of work), as in the Rust program.
 *   larson    every thread churns a window of 1000 live objects; every 10000 allocations it hands
 *             the window to the next thread in a ring (bounded queue of 2), which frees them.
 *   xmalloc   every thread allocates batches of 100 objects and sends them to the next thread in a
 *             ring (bounded queue of 4), then frees the batch it receives from the previous one.
 *   baseline  no sharing: each thread churns its own window (one thread: the single-thread baseline).
 * Objects are 16..256 bytes three times in four, else 257..4096; the first byte is written.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifndef ALLOCATOR
#define ALLOCATOR "system"
#endif
#ifndef TARGET
#define TARGET "unknown"
#endif

#define WINDOW 1000
#define EPOCH_OPS 10000
#define BATCH 100

/* ---- PRNG: SplitMix64-seeded xorshift64*, identical to the Rust program's ---- */
typedef struct {
    uint64_t s;
} rng_t;

static rng_t rng_new(uint64_t seed, uint64_t stream) {
    uint64_t z = seed ^ (stream * 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (rng_t){z ? z : 0x2545F4914F6CDD1Dull};
}

static uint64_t rng_next(rng_t *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t rng_below(rng_t *r, uint64_t n) { return ((rng_next(r) >> 32) * n) >> 32; }

static size_t object_size(rng_t *r) {
    if (rng_below(r, 4) < 3) return 16 + (size_t)rng_below(r, 241);
    return 257 + (size_t)rng_below(r, 3840);
}

/* One allocation of a random size, its first byte written so the memory is really used. */
static void *new_object(rng_t *r) {
    size_t n = object_size(r);
    unsigned char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "alloc_bench: out of memory\n");
        exit(3);
    }
    p[0] = (unsigned char)(rng_next(r) & 0xff);
    return p;
}

static uint64_t release(void *object) {
    uint64_t v = ((unsigned char *)object)[0];
    free(object);
    return v;
}

/* ---- bounded blocking queue (Rust's sync_channel), one per thread: thread i sends to i+1 ---- */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **items;
    size_t cap, head, len;
} queue_t;

static void queue_init(queue_t *q, size_t cap) {
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->items = calloc(cap, sizeof(void *));
    q->cap = cap;
    q->head = q->len = 0;
}

static void queue_send(queue_t *q, void *item) {
    pthread_mutex_lock(&q->lock);
    while (q->len == q->cap) pthread_cond_wait(&q->not_full, &q->lock);
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static void *queue_recv(queue_t *q) {
    pthread_mutex_lock(&q->lock);
    while (q->len == 0) pthread_cond_wait(&q->not_empty, &q->lock);
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return item;
}

typedef struct {
    const char *workload;
    int index, threads;
    uint64_t ops, seed, checksum;
    queue_t *queues;
    double start, end; /* the worker's own clock readings around its work */
} job_t;

static pthread_barrier_t start_barrier;

static size_t window_size(uint64_t ops) { return ops < WINDOW ? (size_t)ops : WINDOW; }

static void **new_window(rng_t *r, size_t n) {
    void **w = malloc(n * sizeof(void *));
    for (size_t k = 0; k < n; k++) w[k] = new_object(r);
    return w;
}

static uint64_t churn(void **window, size_t n, rng_t *r, uint64_t ops) {
    uint64_t sum = 0;
    for (uint64_t i = 0; i < ops; i++) {
        size_t slot = (size_t)rng_below(r, n);
        sum += release(window[slot]);
        window[slot] = new_object(r);
    }
    return sum;
}

static uint64_t drain(void **window, size_t n) {
    uint64_t sum = 0;
    for (size_t k = 0; k < n; k++) sum += release(window[k]);
    free(window);
    return sum;
}

static uint64_t larson(job_t *job, rng_t *r) {
    queue_t *to_next = &job->queues[(job->index + 1) % job->threads];
    queue_t *from_prev = &job->queues[job->index];
    size_t n = window_size(job->ops);
    void **window = new_window(r, n);
    uint64_t sum = 0, done = 0;
    while (done < job->ops) {
        uint64_t epoch = job->ops - done < EPOCH_OPS ? job->ops - done : EPOCH_OPS;
        sum += churn(window, n, r, epoch);
        done += epoch;
        queue_send(to_next, window);
        window = queue_recv(from_prev);
    }
    return sum + drain(window, n);
}

static uint64_t xmalloc(job_t *job, rng_t *r) {
    queue_t *to_next = &job->queues[(job->index + 1) % job->threads];
    queue_t *from_prev = &job->queues[job->index];
    uint64_t sum = 0, done = 0;
    while (done < job->ops) {
        uint64_t batch = job->ops - done < BATCH ? job->ops - done : BATCH;
        void **produced = malloc((batch + 1) * sizeof(void *));
        produced[0] = (void *)(uintptr_t)batch;
        for (uint64_t k = 1; k <= batch; k++) produced[k] = new_object(r);
        done += batch;
        queue_send(to_next, produced);
        void **consumed = queue_recv(from_prev);
        uint64_t count = (uint64_t)(uintptr_t)consumed[0];
        for (uint64_t k = 1; k <= count; k++) sum += release(consumed[k]);
        free(consumed);
    }
    return sum;
}

static uint64_t baseline(job_t *job, rng_t *r) {
    size_t n = window_size(job->ops);
    void **window = new_window(r, n);
    return churn(window, n, r, job->ops) + drain(window, n);
}

static double now_s(void);

static void *worker(void *arg) {
    job_t *job = arg;
    rng_t r = rng_new(job->seed, (uint64_t)job->index);
    pthread_barrier_wait(&start_barrier);
    job->start = now_s();
    if (strcmp(job->workload, "larson") == 0)
        job->checksum = larson(job, &r);
    else if (strcmp(job->workload, "xmalloc") == 0)
        job->checksum = xmalloc(job, &r);
    else
        job->checksum = baseline(job, &r);
    job->end = now_s();
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static int usage(const char *why) {
    fprintf(stderr,
            "alloc_bench: %s\nusage: alloc_bench [--workload larson|xmalloc|baseline] [--threads N] "
            "[--ops N] [--seed N]\n",
            why);
    return 2;
}

int main(int argc, char **argv) {
    const char *workload = "larson";
    long threads = 1;
    unsigned long long ops = 1000000, seed = 42;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list-workloads") == 0) {
            puts("larson\nxmalloc\nbaseline");
            return 0;
        }
        if (i + 1 >= argc) return usage("missing value");
        const char *v = argv[++i];
        char *end = NULL;
        if (strcmp(argv[i - 1], "--workload") == 0)
            workload = v;
        else if (strcmp(argv[i - 1], "--threads") == 0)
            threads = strtol(v, &end, 10);
        else if (strcmp(argv[i - 1], "--ops") == 0)
            ops = strtoull(v, &end, 10);
        else if (strcmp(argv[i - 1], "--seed") == 0)
            seed = strtoull(v, &end, 10);
        else
            return usage("unknown argument");
        if (end && *end) return usage("expected a number");
    }
    if (strcmp(workload, "larson") && strcmp(workload, "xmalloc") && strcmp(workload, "baseline"))
        return usage("unknown workload");
    if (threads < 1 || threads > 1024) return usage("--threads must be between 1 and 1024");
    if (ops < 1) return usage("--ops must be at least 1");

    size_t cap = strcmp(workload, "larson") == 0 ? 2 : 4;
    queue_t *queues = calloc((size_t)threads, sizeof(queue_t));
    for (long t = 0; t < threads; t++) queue_init(&queues[t], cap);
    pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
    job_t *jobs = calloc((size_t)threads, sizeof(job_t));
    pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1);

    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    for (long t = 0; t < threads; t++) {
        jobs[t] = (job_t){workload, (int)t, (int)threads, ops, seed, 0, queues};
        if (pthread_create(&tids[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "alloc_bench: pthread_create failed\n");
            return 3;
        }
    }
    pthread_barrier_wait(&start_barrier);
    /* Timed by the workers themselves, first start to last end: a clock read here could come late
     * (this thread descheduled on a busy machine while the workers already run). */
    uint64_t checksum = 0;
    double t0 = 0, t1 = 0;
    for (long t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        checksum += jobs[t].checksum;
        if (t == 0 || jobs[t].start < t0) t0 = jobs[t].start;
        if (t == 0 || jobs[t].end > t1) t1 = jobs[t].end;
    }
    double elapsed = t1 - t0;
    getrusage(RUSAGE_SELF, &after);

    unsigned long long total = ops * (unsigned long long)threads;
    printf("{\"workload\":\"%s\",\"allocator\":\"%s\",\"threads\":%ld,\"ops\":%llu,\"ops_per_thread\":%llu,"
           "\"seed\":%llu,\"elapsed_s\":%.6f,\"ops_per_s\":%.1f,\"user_s\":%.6f,\"sys_s\":%.6f,"
           "\"max_rss_kib\":%ld,\"target\":\"%s\",\"checksum\":%llu,\"impl\":\"c\"}\n",
           workload, ALLOCATOR, threads, total, ops, seed, elapsed, elapsed > 0 ? (double)total / elapsed : 0.0,
           seconds(after.ru_utime) - seconds(before.ru_utime), seconds(after.ru_stime) - seconds(before.ru_stime),
           after.ru_maxrss, TARGET, (unsigned long long)checksum);
    return 0;
}
