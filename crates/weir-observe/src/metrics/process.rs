//! The `process_*` families Prometheus' client libraries export (Traefik's Go client
//! among them), read from `/proc/self` at each scrape: dashboards' memory, CPU and
//! file-descriptor panels work against weir unchanged. Not on the request path.

/// Clock ticks per second of `/proc` times: the kernel reports them in `USER_HZ`, which is
/// 100 on every Linux architecture.
const USER_HZ: f64 = 100.0;

/// What `/proc/self` says about this process.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Process {
    /// User and system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident memory, in bytes.
    pub resident_bytes: u64,
    /// Virtual memory, in bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on open file descriptors.
    pub max_fds: Option<u64>,
    /// When the process started, in Unix seconds.
    pub start_time_seconds: Option<f64>,
}

impl Process {
    /// Reads `/proc/self`; `None` where there is no procfs (not Linux).
    pub(crate) fn read() -> Option<Process> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        Some(parse(&stat, &status, &limits, &boot, open_fds))
    }

    /// Appends the families in the text exposition format.
    pub(crate) fn encode(&self, out: &mut String) {
        let mut family = |name: &str, kind: &str, help: &str, value: &dyn std::fmt::Display| {
            super::encode::scalar(out, "process", name, kind, help, value);
        };
        family(
            "cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            &self.cpu_seconds,
        );
        family(
            "resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            &self.resident_bytes,
        );
        family(
            "virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            &self.virtual_bytes,
        );
        family(
            "open_fds",
            "gauge",
            "Number of open file descriptors.",
            &self.open_fds,
        );
        if let Some(max) = self.max_fds {
            family(
                "max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                &max,
            );
        }
        if let Some(start) = self.start_time_seconds {
            family(
                "start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
                &start,
            );
        }
    }
}

/// The figures from the text of `/proc/self/stat`, `/proc/self/status`,
/// `/proc/self/limits` and `/proc/stat`.
fn parse(stat: &str, status: &str, limits: &str, boot: &str, open_fds: u64) -> Process {
    // The command name (field 2) may hold spaces and parentheses: fields are counted
    // from after its closing parenthesis, where field 3 (state) begins.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse().ok() };
    let cpu_seconds = (field(14).unwrap_or(0.0) + field(15).unwrap_or(0.0)) / USER_HZ;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |k| k * 1024)
    };
    let max_fds = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok());
    let boot_time: Option<f64> = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok());
    let start_time_seconds = boot_time
        .zip(field(22))
        .map(|(boot, ticks)| boot + ticks / USER_HZ);
    Process {
        cpu_seconds,
        resident_bytes: kib("VmRSS:"),
        virtual_bytes: kib("VmSize:"),
        open_fds,
        max_fds,
        start_time_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_procfs_texts() {
        // A command name with a space and a parenthesis, as the kernel allows.
        let stat = "4242 (weir (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 \
                    12345 1000000 500 18446744073709551615";
        let status = "Name:\tweir\nVmSize:\t  204800 kB\nVmRSS:\t   40960 kB\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        let boot = "cpu  1 2 3\nbtime 1700000000\n";
        let p = parse(stat, status, limits, boot, 17);
        let start = p.start_time_seconds.unwrap_or_default();
        assert!((start - 1_700_000_123.45).abs() < 1e-3, "{start}");
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(
            (p.resident_bytes, p.virtual_bytes, p.open_fds, p.max_fds),
            (40960 * 1024, 204800 * 1024, 17, Some(1024))
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read() {
        let Some(p) = Process::read() else {
            panic!("no /proc/self on Linux")
        };
        assert!(p.resident_bytes > 0 && p.open_fds > 0, "{p:?}");
        let mut out = String::new();
        p.encode(&mut out);
        assert!(out.contains("# TYPE process_cpu_seconds_total counter\n"));
    }
}
