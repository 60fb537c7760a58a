/*
 * mockbroker.c - run librdkafka's built-in mock Kafka cluster as a standalone
 * process so that other clients (e.g. kafkajs in another process) can use it.
 *
 * This is the Junction team's shared Kafka mock (a copy kept in the repository so that CI,
 * which has no shared tools, can build it; tools/test-servers/src/kafka.ts compiles and runs it).
 *
 * Usage: mockbroker [num_brokers=1] [max_seconds=300] [bootstrap_file]
 *   Prints "BOOTSTRAP=<host:port,...>" on stdout (and writes the bare list to
 *   bootstrap_file if given), then runs until SIGTERM/SIGINT or max_seconds.
 *   The mock brokers listen on 127.0.0.1 with ephemeral ports.
 *   Env MOCK_TOPICS="name:partitions[,name:partitions...]" pre-creates topics.
 *   Env MOCK_CONTROLLER=1: the mock reports ControllerId 0 (no such broker) in
 *   Metadata, which breaks kafkajs admin/idempotent paths; this pokes broker 1
 *   in as controller (relies on the private struct layout: char id[32];
 *   rd_kafka_t *rk; int32_t controller_id; checked before writing).
 *   Env MOCK_APIVERSIONS="key:min:max[,...]" overrides advertised API versions
 *   (rd_kafka_mock_set_apiversion), e.g. "18:0:3" for ApiVersions v3.
 *
 * Build: gcc -O2 -Wall -o mockbroker mockbroker.c $(pkg-config --cflags --libs rdkafka)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t run = 1;
static void stop(int sig) { (void)sig; run = 0; }

int main(int argc, char **argv) {
        int brokers = argc > 1 ? atoi(argv[1]) : 1;
        int max_s   = argc > 2 ? atoi(argv[2]) : 300;
        const char *bfile = argc > 3 ? argv[3] : NULL;
        char errstr[512];

        if (brokers < 1 || brokers > 9 || max_s < 1) {
                fprintf(stderr, "usage: %s [brokers 1-9] [max_seconds] [file]\n", argv[0]);
                return 2;
        }
        signal(SIGTERM, stop);
        signal(SIGINT, stop);

        /* The mock cluster needs an rd_kafka_t for bookkeeping; a producer
         * handle that is never used for producing is enough. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr));
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }

        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) { fprintf(stderr, "rd_kafka_mock_cluster_new failed\n"); return 1; }

        const char *mctl = getenv("MOCK_CONTROLLER");
        if (mctl && *mctl == '1') {
                char *base = (char *)mc;
                rd_kafka_t **rkp = (rd_kafka_t **)(base + 32);
                int32_t *ctl = (int32_t *)(base + 32 + sizeof(void *));
                if (*rkp == rd_kafka_mock_cluster_handle(mc) && *ctl == 0)
                        *ctl = 1;
                else
                        fprintf(stderr, "MOCK_CONTROLLER: layout mismatch, not patched\n");
        }

        const char *apiv = getenv("MOCK_APIVERSIONS");
        if (apiv && *apiv) {
                char *dup = strdup(apiv), *save = NULL;
                for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        int k, lo, hi;
                        if (sscanf(t, "%d:%d:%d", &k, &lo, &hi) == 3)
                                fprintf(stderr, "apiversion %d [%d..%d]: %s\n", k, lo, hi,
                                        rd_kafka_err2str(rd_kafka_mock_set_apiversion(mc, (int16_t)k, (int16_t)lo, (int16_t)hi)));
                }
                free(dup);
        }

        const char *topics = getenv("MOCK_TOPICS");
        if (topics && *topics) {
                char *dup = strdup(topics), *save = NULL;
                for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        char *c = strchr(t, ':');
                        int parts = c ? (*c = 0, atoi(c + 1)) : 1;
                        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
                            mc, t, parts > 0 ? parts : 1, brokers < 3 ? brokers : 3);
                        if (e) fprintf(stderr, "topic %s: %s\n", t, rd_kafka_err2str(e));
                }
                free(dup);
        }

        const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
        printf("BOOTSTRAP=%s\n", bs);
        fflush(stdout);
        if (bfile) {
                FILE *f = fopen(bfile, "w");
                if (f) { fprintf(f, "%s\n", bs); fclose(f); }
        }

        time_t end = time(NULL) + max_s;
        while (run && time(NULL) < end)
                usleep(100 * 1000);

        fprintf(stderr, "mockbroker: %s, shutting down\n", run ? "max time reached" : "signal");
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
