/*
 * gatehouse-gpio-cdev: the edge agent's bridge to the GPIO character device (Linux GPIO uAPI v2, kernel >= 5.10).
 *
 * Why a helper process and not a Node addon: the point of the character device is the kernel's timestamp of each
 * edge (CLOCK_MONOTONIC, taken in the interrupt handler), and a separate process keeps draining the kernel's event
 * queue while the agent's event loop is busy; a pipe then holds the events, with their timestamps, until the agent
 * reads them. It needs only the C library and the kernel headers (no libgpiod, no node-gyp headers to download),
 * and the agent never loads it on a machine without /dev/gpiochip*.
 *
 *   gatehouse-gpio-cdev info  CHIP                 chip<TAB>name<TAB>lines<TAB>label
 *   gatehouse-gpio-cdev probe CHIP OFFSET out      ok<TAB>free|used<TAB>consumer   (the line's owner, without claiming it)
 *   gatehouse-gpio-cdev probe CHIP OFFSET in AL    ok<TAB>VALUE   (claims it as an input for a moment: errors as a request has them)
 *   gatehouse-gpio-cdev serve CHIP                 commands on stdin, one a line:
 *     in ID OFFSET ACTIVE_LOW DEBOUNCE_US BIAS     -> ok ID VALUE        (BIAS: as-is | pull-up | pull-down | disabled)
 *     out ID OFFSET ACTIVE_LOW INITIAL SAFE        -> ok ID VALUE        (SAFE: driven again when the agent goes away)
 *     set ID VALUE                                 -> ok ID VALUE
 *     close ID                                     -> ok ID 0
 *   events, as the kernel reports them, sorted by timestamp within each read:
 *     ev ID r|f TIMESTAMP_NS LINE_SEQNO
 *   errors: err ID ERRNO_NAME message
 * On end of stdin (the agent exited or crashed) or SIGTERM, outputs go to their SAFE value before the lines are
 * released, so a relay is de-energised while the agent restarts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_REQ 64
#define MAX_EVENTS 1024

struct req {
  int used;
  int fd;
  unsigned id;
  int output;
  int safe;
};

static struct req reqs[MAX_REQ];
static volatile sig_atomic_t stop_now = 0;

static const char *errname(int e) {
  switch (e) {
  case EBUSY: return "EBUSY";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case EINVAL: return "EINVAL";
  case ENOENT: return "ENOENT";
  case ENODEV: return "ENODEV";
  case ENOTTY: return "ENOTTY";
  case EIO: return "EIO";
  case E2BIG: return "E2BIG";
  default: return "EOTHER";
  }
}

static void reply_err(unsigned id, int e, const char *what) {
  printf("err %u %s %s: %s\n", id, errname(e), what, strerror(e));
  fflush(stdout);
}

static int open_chip(const char *path) { return open(path, O_RDWR | O_CLOEXEC); }

static int cmd_info(const char *path) {
  int fd = open_chip(path);
  if (fd < 0) {
    reply_err(0, errno, path);
    return 1;
  }
  struct gpiochip_info info;
  memset(&info, 0, sizeof info);
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) < 0) {
    reply_err(0, errno, "GPIO_GET_CHIPINFO_IOCTL");
    return 1;
  }
  printf("chip\t%s\t%u\t%s\n", info.name, info.lines, info.label);
  return 0;
}

static int cmd_probe(const char *path, unsigned offset, const char *dir, int active_low) {
  int fd = open_chip(path);
  if (fd < 0) {
    reply_err(0, errno, path);
    return 1;
  }
  if (strcmp(dir, "in") == 0) {
    struct gpio_v2_line_request lr;
    memset(&lr, 0, sizeof lr);
    lr.offsets[0] = offset;
    lr.num_lines = 1;
    snprintf(lr.consumer, sizeof lr.consumer, "gatehouse-probe");
    lr.config.flags = GPIO_V2_LINE_FLAG_INPUT | (active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
    if (ioctl(fd, GPIO_V2_GET_LINE_IOCTL, &lr) < 0) {
      reply_err(0, errno, "GPIO_V2_GET_LINE_IOCTL");
      return 1;
    }
    struct gpio_v2_line_values v = {.bits = 0, .mask = 1};
    if (ioctl(lr.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0) {
      reply_err(0, errno, "GPIO_V2_LINE_GET_VALUES_IOCTL");
      return 1;
    }
    printf("ok\t%d\n", (int)(v.bits & 1));
    return 0;
  }
  struct gpio_v2_line_info li;
  memset(&li, 0, sizeof li);
  li.offset = offset;
  if (ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) < 0) {
    reply_err(0, errno, "GPIO_V2_GET_LINEINFO_IOCTL");
    return 1;
  }
  printf("ok\t%s\t%s\n", (li.flags & GPIO_V2_LINE_FLAG_USED) ? "used" : "free", li.consumer);
  return 0;
}

static struct req *find(unsigned id) {
  for (int i = 0; i < MAX_REQ; i++)
    if (reqs[i].used && reqs[i].id == id) return &reqs[i];
  return NULL;
}

static struct req *slot(void) {
  for (int i = 0; i < MAX_REQ; i++)
    if (!reqs[i].used) return &reqs[i];
  return NULL;
}

static int line_value(int fd) {
  struct gpio_v2_line_values v = {.bits = 0, .mask = 1};
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0) return -1;
  return (int)(v.bits & 1);
}

static int set_value(int fd, int value) {
  struct gpio_v2_line_values v = {.bits = value ? 1 : 0, .mask = 1};
  return ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v);
}

static uint64_t bias_flag(const char *bias) {
  if (strcmp(bias, "pull-up") == 0) return GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
  if (strcmp(bias, "pull-down") == 0) return GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
  if (strcmp(bias, "disabled") == 0) return GPIO_V2_LINE_FLAG_BIAS_DISABLED;
  return 0;
}

static void request(int chip, unsigned id, unsigned offset, int output, int active_low, int initial, int safe,
                    unsigned debounce_us, const char *bias) {
  if (find(id)) {
    reply_err(id, EINVAL, "id in use");
    return;
  }
  struct req *r = slot();
  if (!r) {
    reply_err(id, EINVAL, "too many lines");
    return;
  }
  struct gpio_v2_line_request lr;
  memset(&lr, 0, sizeof lr);
  lr.offsets[0] = offset;
  lr.num_lines = 1;
  snprintf(lr.consumer, sizeof lr.consumer, "gatehouse-edge");
  lr.config.flags = active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0;
  if (output) {
    lr.config.flags |= GPIO_V2_LINE_FLAG_OUTPUT;
    lr.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    lr.config.attrs[0].attr.values = initial ? 1 : 0;
    lr.config.attrs[0].mask = 1;
    lr.config.num_attrs = 1;
  } else {
    /* Both edges always: the agent keeps the line's value from the events and filters the edge it asked for. */
    lr.config.flags |= GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING |
                       bias_flag(bias);
    if (debounce_us > 0) {
      lr.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
      lr.config.attrs[0].attr.debounce_period_us = debounce_us;
      lr.config.attrs[0].mask = 1;
      lr.config.num_attrs = 1;
    }
    /* The kernel caps it (16 per line by default, at most 1024): room for a busy moment of this process. */
    lr.event_buffer_size = MAX_EVENTS;
  }
  if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &lr) < 0) {
    reply_err(id, errno, "GPIO_V2_GET_LINE_IOCTL");
    return;
  }
  r->used = 1;
  r->fd = lr.fd;
  r->id = id;
  r->output = output;
  r->safe = safe;
  int v = line_value(r->fd);
  printf("ok %u %d\n", id, v < 0 ? 0 : v);
  fflush(stdout);
}

static void release_all(void) {
  for (int i = 0; i < MAX_REQ; i++) {
    if (!reqs[i].used) continue;
    if (reqs[i].output) set_value(reqs[i].fd, reqs[i].safe);
    close(reqs[i].fd);
    reqs[i].used = 0;
  }
}

static void command(int chip, char *line) {
  char op[8] = {0}, bias[16] = "as-is";
  unsigned id = 0, offset = 0, debounce = 0;
  int a = 0, b = 0, c = 0;
  if (sscanf(line, "%7s", op) != 1) return;
  if (strcmp(op, "in") == 0 && sscanf(line, "in %u %u %d %u %15s", &id, &offset, &a, &debounce, bias) >= 4) {
    request(chip, id, offset, 0, a, 0, 0, debounce, bias);
  } else if (strcmp(op, "out") == 0 && sscanf(line, "out %u %u %d %d %d", &id, &offset, &a, &b, &c) == 5) {
    request(chip, id, offset, 1, a, b, c, 0, "as-is");
  } else if (strcmp(op, "set") == 0 && sscanf(line, "set %u %d", &id, &a) == 2) {
    struct req *r = find(id);
    if (!r) reply_err(id, ENOENT, "no such line");
    else if (set_value(r->fd, a) < 0) reply_err(id, errno, "GPIO_V2_LINE_SET_VALUES_IOCTL");
    else {
      printf("ok %u %d\n", id, a ? 1 : 0);
      fflush(stdout);
    }
  } else if (strcmp(op, "close") == 0 && sscanf(line, "close %u", &id) == 1) {
    struct req *r = find(id);
    if (r) {
      close(r->fd);
      r->used = 0;
    }
    printf("ok %u 0\n", id);
    fflush(stdout);
  } else {
    reply_err(id, EINVAL, "bad command");
  }
}

struct ev {
  uint64_t ts;
  unsigned id;
  int rising;
  unsigned seq;
};

static int by_ts(const void *x, const void *y) {
  const struct ev *a = x, *b = y;
  return a->ts < b->ts ? -1 : a->ts > b->ts ? 1 : 0;
}

static void on_signal(int sig) {
  (void)sig;
  stop_now = 1;
}

static int cmd_serve(const char *path) {
  int chip = open_chip(path);
  if (chip < 0) {
    reply_err(0, errno, path);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  printf("ready %s\n", path);
  fflush(stdout);

  static char inbuf[4096];
  size_t inlen = 0;
  int discarding = 0; /* inside a line longer than any command: skipped to its end */
  static struct ev evs[MAX_EVENTS * 4];
  struct gpio_v2_line_event raw[64];
  while (!stop_now) {
    struct pollfd pfd[MAX_REQ + 1];
    int map[MAX_REQ + 1];
    int n = 0;
    pfd[n].fd = STDIN_FILENO;
    pfd[n].events = POLLIN;
    map[n++] = -1;
    for (int i = 0; i < MAX_REQ; i++) {
      if (!reqs[i].used || reqs[i].output) continue;
      pfd[n].fd = reqs[i].fd;
      pfd[n].events = POLLIN;
      map[n++] = i;
    }
    if (poll(pfd, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    /* Events of every ready line, merged by timestamp, so D0 and D1 bits come out in the order they happened. */
    size_t count = 0;
    for (int k = 1; k < n; k++) {
      if (!(pfd[k].revents & POLLIN)) continue;
      struct req *r = &reqs[map[k]];
      ssize_t got = read(r->fd, raw, sizeof raw);
      if (got < 0) {
        if (errno != EAGAIN && errno != EINTR) reply_err(r->id, errno, "read events");
        continue;
      }
      for (size_t j = 0; j < (size_t)got / sizeof raw[0] && count < sizeof evs / sizeof evs[0]; j++) {
        evs[count].ts = raw[j].timestamp_ns;
        evs[count].id = r->id;
        evs[count].rising = raw[j].id == GPIO_V2_LINE_EVENT_RISING_EDGE;
        evs[count].seq = raw[j].line_seqno;
        count++;
      }
    }
    if (count > 0) {
      qsort(evs, count, sizeof evs[0], by_ts);
      for (size_t j = 0; j < count; j++)
        printf("ev %u %c %llu %u\n", evs[j].id, evs[j].rising ? 'r' : 'f', (unsigned long long)evs[j].ts, evs[j].seq);
      fflush(stdout);
    }
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(STDIN_FILENO, inbuf + inlen, sizeof inbuf - 1 - inlen);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        break; /* the agent is gone */
      }
      inlen += (size_t)got;
      inbuf[inlen] = 0;
      char *start = inbuf, *nl;
      while ((nl = strchr(start, '\n')) != NULL) {
        *nl = 0;
        if (discarding) discarding = 0;
        else command(chip, start);
        start = nl + 1;
      }
      inlen = strlen(start);
      memmove(inbuf, start, inlen);
      if (inlen == sizeof inbuf - 1) {
        inlen = 0;
        if (!discarding) reply_err(0, E2BIG, "line too long");
        discarding = 1;
      }
    }
  }
  release_all();
  close(chip);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("gatehouse-gpio-cdev 1 (uAPI v2)\n");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "info") == 0) return cmd_info(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "probe") == 0)
    return cmd_probe(argv[2], (unsigned)strtoul(argv[3], NULL, 10), argv[4], argc > 5 && strcmp(argv[5], "1") == 0);
  if (argc == 3 && strcmp(argv[1], "serve") == 0) return cmd_serve(argv[2]);
  fprintf(stderr, "usage: gatehouse-gpio-cdev info|serve CHIP | probe CHIP OFFSET in|out [ACTIVE_LOW] | --version\n");
  return 2;
}
