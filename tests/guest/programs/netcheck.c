/*
 * netcheck: show that every network interface sends and receives, with no
 * IP configuration and no help from an option ROM.
 *
 *   netcheck [TARGET-IP [SOURCE-IP]]
 *
 * For each interface but lo: bring it up, wait for carrier, broadcast an
 * ARP request for TARGET-IP (default 10.0.2.2, QEMU's user-mode network
 * gateway) from SOURCE-IP (default 10.0.2.15) and wait for the reply.
 *
 * Output, one record per line:
 *   netcheck: iface <name> mac <mac> carrier=<0|1> reply=<mac|none>
 *   netcheck: error <what>: <reason>
 *   netcheck: done interfaces=<n> ok=<n>
 * Exit status: 0 when there is at least one interface and every one got a
 * reply, 1 when one did not (or there is none), 2 on an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CARRIER_WAIT_MS 5000
#define REPLY_WAIT_MS 5000
#define RETRY_MS 500

static int errors;

static void error(const char *what, const char *why)
{
    printf("netcheck: error %s: %s\n", what, why);
    errors++;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void format_mac(char *out, const unsigned char *mac)
{
    sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x",
            mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static int bring_up(int sock, const char *name, unsigned char *mac)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        return -1;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
        return -1;
    }
    if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) {
        return -1;
    }
    memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
    return 0;
}

static int has_carrier(const char *name)
{
    char path[128], c = '0';
    int fd;

    snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", name);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    if (read(fd, &c, 1) != 1) {
        c = '0';
    }
    close(fd);
    return c == '1';
}

static void build_request(unsigned char *frame, const unsigned char *mac,
                          struct in_addr source, struct in_addr target)
{
    struct ether_header *eth = (struct ether_header *)frame;
    struct ether_arp *arp = (struct ether_arp *)(frame + sizeof(*eth));

    memset(frame, 0, ETH_ZLEN);
    memset(eth->ether_dhost, 0xff, ETH_ALEN);
    memcpy(eth->ether_shost, mac, ETH_ALEN);
    eth->ether_type = htons(ETHERTYPE_ARP);
    arp->arp_hrd = htons(ARPHRD_ETHER);
    arp->arp_pro = htons(ETHERTYPE_IP);
    arp->arp_hln = ETH_ALEN;
    arp->arp_pln = 4;
    arp->arp_op = htons(ARPOP_REQUEST);
    memcpy(arp->arp_sha, mac, ETH_ALEN);
    memcpy(arp->arp_spa, &source, 4);
    memcpy(arp->arp_tpa, &target, 4);
}

/* Is @frame an ARP reply from @target? Copies the sender's MAC to @from. */
static int is_reply(const unsigned char *frame, ssize_t len,
                    struct in_addr target, unsigned char *from)
{
    const struct ether_header *eth = (const struct ether_header *)frame;
    const struct ether_arp *arp =
        (const struct ether_arp *)(frame + sizeof(*eth));

    if (len < (ssize_t)(sizeof(*eth) + sizeof(*arp)) ||
        ntohs(eth->ether_type) != ETHERTYPE_ARP ||
        ntohs(arp->arp_op) != ARPOP_REPLY ||
        memcmp(arp->arp_spa, &target, 4) != 0) {
        return 0;
    }
    memcpy(from, arp->arp_sha, ETH_ALEN);
    return 1;
}

/* Returns 1 when @target answered on interface @index, 0 when not. */
static int arp_probe(const char *name, int index, const unsigned char *mac,
                     struct in_addr source, struct in_addr target,
                     unsigned char *from)
{
    unsigned char frame[ETH_ZLEN], buf[1600];
    struct sockaddr_ll addr;
    long deadline = now_ms() + REPLY_WAIT_MS, next_send = 0;
    int sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));

    if (sock < 0) {
        error(name, strerror(errno));
        return 0;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ARP);
    addr.sll_ifindex = index;
    if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error(name, strerror(errno));
        close(sock);
        return 0;
    }
    addr.sll_halen = ETH_ALEN;
    memset(addr.sll_addr, 0xff, ETH_ALEN);
    build_request(frame, mac, source, target);

    while (now_ms() < deadline) {
        struct pollfd pfd = { .fd = sock, .events = POLLIN };
        ssize_t n;

        if (now_ms() >= next_send) {
            if (sendto(sock, frame, sizeof(frame), 0,
                       (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                error(name, strerror(errno));
                break;
            }
            next_send = now_ms() + RETRY_MS;
        }
        if (poll(&pfd, 1, RETRY_MS) <= 0) {
            continue;
        }
        n = recv(sock, buf, sizeof(buf), 0);
        if (n > 0 && is_reply(buf, n, target, from)) {
            close(sock);
            return 1;
        }
    }
    close(sock);
    return 0;
}

int main(int argc, char **argv)
{
    const char *target_ip = argc > 1 ? argv[1] : "10.0.2.2";
    const char *source_ip = argc > 2 ? argv[2] : "10.0.2.15";
    struct in_addr target, source;
    struct if_nameindex *ifs, *i;
    int sock, count = 0, ok = 0;

    if (argc > 3 || inet_pton(AF_INET, target_ip, &target) != 1 ||
        inet_pton(AF_INET, source_ip, &source) != 1) {
        fprintf(stderr, "usage: netcheck [TARGET-IP [SOURCE-IP]]\n");
        return 2;
    }
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    ifs = if_nameindex();
    if (sock < 0 || !ifs) {
        error("setup", strerror(errno));
        return 2;
    }
    for (i = ifs; i->if_index; i++) {
        unsigned char mac[ETH_ALEN], from[ETH_ALEN];
        char mac_text[18], from_text[18] = "none";
        long deadline = now_ms() + CARRIER_WAIT_MS;
        int carrier;

        if (!strcmp(i->if_name, "lo")) {
            continue;
        }
        count++;
        if (bring_up(sock, i->if_name, mac) < 0) {
            error(i->if_name, strerror(errno));
            continue;
        }
        while (!(carrier = has_carrier(i->if_name)) && now_ms() < deadline) {
            usleep(100 * 1000);
        }
        if (carrier && arp_probe(i->if_name, i->if_index, mac, source, target,
                                 from)) {
            format_mac(from_text, from);
            ok++;
        }
        format_mac(mac_text, mac);
        printf("netcheck: iface %s mac %s carrier=%d reply=%s\n", i->if_name,
               mac_text, carrier, from_text);
    }
    if_freenameindex(ifs);
    close(sock);
    printf("netcheck: done interfaces=%d ok=%d\n", count, ok);
    fflush(stdout);
    if (errors) {
        return 2;
    }
    return count > 0 && ok == count ? 0 : 1;
}
