/*
 * threadtest: one process, THREADS threads (the main one included), each
 * of which calls gettid and getpid once more after all have started, so
 * the cloak-trace attribution test (tests/trace/test_trace_tasks.py) sees
 * one tgid with THREADS distinct tids, each tid on its own gettid's
 * return.  Prints "threadtest: pid=P tids=A,B,C" when done.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw-syscall.h"

#define THREADS 3

static pthread_barrier_t all_started;
static long tids[THREADS];

static void *work(void *arg)
{
    long i = (long)arg;

    pthread_barrier_wait(&all_started);
    tids[i] = raw0(SYS_gettid);
    raw0(SYS_getpid);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    long i;

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
    printf("threadtest: pid=%ld tids=", (long)getpid());
    for (i = 0; i < THREADS; i++) {
        printf("%s%ld", i ? "," : "", tids[i]);
    }
    printf("\n");
    return 0;
}
