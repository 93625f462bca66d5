/*
 * threadtest: one process, THREADS threads (the main one included), each
 * of which calls gettid and getpid ROUNDS times (default 1) after all
 * have started, so the cloak-trace attribution test
 * (tests/trace/test_trace_tasks.py) sees one tgid with THREADS distinct
 * tids, each tid on its own gettid's return.  Many rounds on one vCPU
 * make the threads take turns in mid-loop, in one address space.
 * Then the main thread renames itself (prctl PR_SET_NAME, "threadtest-rn")
 * and calls gettid once more, which the trace must show under the new name.
 * Prints "threadtest: pid=P tids=A,B,C" when done.
 *
 * Usage: threadtest [ROUNDS]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw-syscall.h"

#define THREADS 3

static pthread_barrier_t all_started;
static long tids[THREADS];
static long rounds = 1;

static void *work(void *arg)
{
    long i = (long)arg, r;

    pthread_barrier_wait(&all_started);
    for (r = 0; r < rounds; r++) {
        tids[i] = raw0(SYS_gettid);
        raw0(SYS_getpid);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];
    long i;

    if (argc > 1) {
        rounds = atol(argv[1]);
    }
    if (rounds < 1) {
        fprintf(stderr, "threadtest: ROUNDS must be at least 1\n");
        return 1;
    }
    pthread_barrier_init(&all_started, NULL, THREADS);
    for (i = 1; i < THREADS; i++) {
        if (pthread_create(&t[i], NULL, work, (void *)i) != 0) {
            perror("threadtest: pthread_create");
            return 1;
        }
    }
    work((void *)0);
    for (i = 1; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    if (prctl(PR_SET_NAME, "threadtest-rn", 0, 0, 0) != 0) {
        perror("threadtest: prctl");
        return 1;
    }
    raw0(SYS_gettid);
    printf("threadtest: pid=%ld tids=", (long)getpid());
    for (i = 0; i < THREADS; i++) {
        printf("%s%ld", i ? "," : "", tids[i]);
    }
    printf("\n");
    return 0;
}
