package io.earnidle.testsupport;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real dnsmasq on 127.0.0.1 at a free port, authoritative for {@code example.test} (unknown names get NXDOMAIN),
 * serving the TXT records the test sets. {@link #setTxt} rewrites its configuration and restarts it on the same port.
 */
public final class Dnsmasq implements AutoCloseable {
    private final String binary;
    private final int port;
    private final Path dir;
    private final Map<String, List<String>> records = new LinkedHashMap<>();
    private Process process;

    private Dnsmasq(String binary, int port, Path dir) {
        this.binary = binary;
        this.port = port;
        this.dir = dir;
    }

    public static Dnsmasq start() throws IOException, InterruptedException {
        String binary = System.getenv().getOrDefault("DNSMASQ", "/usr/sbin/dnsmasq");
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException("dnsmasq (" + binary + ") is needed for the DNS verification tests;"
                    + " `./earnidle test` installs it (apt package dnsmasq), or set DNSMASQ");
        }
        Dnsmasq d = new Dnsmasq(binary, freePort(), Files.createTempDirectory("earnidle-dnsmasq"));
        d.restart();
        return d;
    }

    private static int freePort() throws IOException {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(port, InetAddress.getByName("127.0.0.1"))) {
                    return port;
                } catch (IOException busy) {
                    // UDP port taken: try another
                }
            }
        }
        throw new IOException("no free port for dnsmasq");
    }

    public String resolver() {
        return "127.0.0.1:" + port;
    }

    /** Replaces the TXT values of {@code name} (none = remove the record) and restarts dnsmasq. */
    public synchronized void setTxt(String name, String... values) throws IOException, InterruptedException {
        if (values.length == 0) {
            records.remove(name);
        } else {
            records.put(name, List.of(values));
        }
        restart();
    }

    private void restart() throws IOException, InterruptedException {
        stop();
        List<String> conf = new ArrayList<>();
        records.forEach((name, values) -> values.forEach(v -> conf.add("txt-record=" + name + ",\"" + v + "\"")));
        Path file = dir.resolve("records.conf");
        Files.write(file, conf);
        file.toFile().setReadable(true, false);
        dir.toFile().setExecutable(true, false);
        process = new ProcessBuilder(binary, "--no-daemon", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--port=" + port, "--local=/example.test/", "--conf-file=" + file,
                "--log-facility=-")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("dnsmasq.log").toFile())
                .start();
        // ready when it answers TCP on its port
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("dnsmasq exited: " + Files.readString(dir.resolve("dnsmasq.log")));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("dnsmasq did not start on port " + port);
                }
                Thread.sleep(50);
            }
        }
    }

    private void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
