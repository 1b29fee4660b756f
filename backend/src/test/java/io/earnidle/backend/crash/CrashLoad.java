package io.earnidle.backend.crash;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.earnidle.backend.WalletTestSupport;
import io.earnidle.backend.crash.CrashHttp.Answer;
import io.earnidle.backend.crash.CrashHttp.Req;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.LocalChain;
import org.web3j.crypto.Credentials;

import static io.earnidle.backend.crash.CrashHttp.get;
import static io.earnidle.backend.crash.CrashHttp.post;

/**
 * The crash test's load, over real HTTP from the test JVM (virtual threads): nodes that register with a wallet, poll
 * and submit honest results for the demo customer's jobs (retrying a submission with its Idempotency-Key while the
 * server is down); customers that submit a job and wait for it; and a wallet owner per wallet who withdraws what the
 * nodes earned, so payouts are in flight on the chain. A request that fails on the wire moves to the next instance.
 * It records what the clients were told (202 job ids, 202 payout ids, accepted results) and requests whose outcome
 * the client never learned; the test compares them with the database afterwards.
 */
final class CrashLoad implements AutoCloseable {
    static final String MODEL = "synthetic-tiny-f32";
    static final long WITHDRAWAL = 2_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A payout the server acknowledged with 202: paid (at most) this much to a destination of its own. */
    record AckedPayout(String id, String walletToken, String destination, long amount) {
    }

    private record Wallet(Credentials key, String token, AtomicLong nonce) {
    }

    private final List<URI> instances;
    private final String customerKey;
    private final long pollMillis;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    /** The customers' and wallet owners' tasks (not the nodes'). */
    private final List<Future<?>> submitters = new CopyOnWriteArrayList<>();
    private final List<Wallet> wallets = new ArrayList<>();
    private volatile boolean submitting = true;
    private volatile boolean running = true;

    final Map<String, Boolean> ackedJobs = new ConcurrentHashMap<>();
    final Map<String, AckedPayout> ackedPayouts = new ConcurrentHashMap<>();
    final AtomicLong acceptedResults = new AtomicLong();
    final AtomicLong submitOutcomeUnknown = new AtomicLong();
    final AtomicLong withdrawOutcomeUnknown = new AtomicLong();
    final AtomicLong wireErrors = new AtomicLong();
    final Map<Integer, AtomicInteger> resultStatuses = new ConcurrentSkipListMap<>();
    /** What a simulated party could not explain (a 5xx, an unexpected refusal): the test fails on any. */
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    CrashLoad(List<URI> instances, String customerKey, long pollMillis) {
        this.instances = List.copyOf(instances);
        this.customerKey = customerKey;
        this.pollMillis = pollMillis;
    }

    /** Signs {@code walletCount} wallets in, then starts {@code nodes} nodes (spread over the wallets) and customers. */
    void start(int walletCount, int nodes, int customers) throws IOException, InterruptedException {
        for (int i = 0; i < walletCount; i++) {
            wallets.add(signIn(WalletTestSupport.newKey(), i));
        }
        for (int i = 0; i < nodes; i++) {
            int n = i;
            threads.submit(guarded(() -> node(n, wallets.get(n % wallets.size()))));
        }
        for (int i = 0; i < customers; i++) {
            int c = i;
            submitters.add(threads.submit(guarded(() -> customer(c))));
        }
        for (Wallet w : wallets) {
            submitters.add(threads.submit(guarded(() -> withdrawals(w))));
        }
    }

    private Runnable guarded(Runnable party) {
        return () -> {
            try {
                party.run();
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
        };
    }

    /**
     * No new jobs or withdrawals; nodes keep working off the queue. Waits (at most {@code limit}) until every customer
     * and wallet owner has ended the request it was making, so the acknowledged jobs and payouts are final: a
     * withdrawal acknowledged after the drain had read them would otherwise go unwaited-for.
     */
    void stopSubmitting(Duration limit) throws Exception {
        submitting = false;
        long deadline = System.nanoTime() + limit.toNanos();
        for (Future<?> f : submitters) {
            f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        submitting = false;
        running = false;
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
    }

    // ---- the simulated parties ----

    private void node(int n, Wallet wallet) {
        int at = n;
        String token = null;
        while (running) {
            try {
                if (token == null) {
                    Answer r = send(at, post("/api/nodes", null, """
                            {"placement_id":"demo-placement","capabilities":{},"limits":{},"wallet_token":"%s"}"""
                            .formatted(wallet.token())));
                    if (r.status() != 201) {
                        throw new IllegalStateException("registration: " + r.status() + " " + r.body());
                    }
                    token = r.json().path("session_token").asText();
                    continue;
                }
                Answer poll = send(at, get("/api/inference/job", token));
                if (poll.status() == 401) {
                    token = null;
                } else if (poll.status() == 200) {
                    submitResult(at, token, poll.json());
                } else {
                    Thread.sleep(pollMillis); // 204: nothing to do; the server's suggested poll interval
                }
            } catch (IOException down) {
                wireErrors.incrementAndGet();
                at++; // the next instance (the same one on a single-instance store)
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Submits the honest result, retrying the same request (same Idempotency-Key) until an instance answers. */
    private void submitResult(int at, String token, JsonNode lease) throws InterruptedException {
        String body = """
                {"job_id":"%s","lease_id":"%s","text":" abc","token_ids":[1,2,3],"token_count":3,
                 "engine":"crash-test","timing":{"prefill_ms":1.5,"decode_ms":2.25}}"""
                .formatted(lease.path("job_id").asText(), lease.path("lease_id").asText());
        String key = UUID.randomUUID().toString();
        while (running) {
            try {
                Answer r = send(at, post("/api/inference/result", token, body).withKey(key));
                resultStatuses.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
                if (r.status() == 200) {
                    acceptedResults.incrementAndGet();
                }
                return;
            } catch (IOException down) {
                wireErrors.incrementAndGet();
                at++;
                pause();
            }
        }
    }

    private void customer(int c) {
        int at = c;
        long n = 0;
        while (submitting) {
            try {
                Answer r = send(at, post("/api/jobs", customerKey, """
                        {"model":"%s","prompt":"crash test %d-%d","max_tokens":4,"sampling":{"temperature":0,"seed":42}}"""
                        .formatted(MODEL, c, n++)));
                if (r.status() != 202) {
                    throw new IllegalStateException("job submission: " + r.status() + " " + r.body());
                }
                String id = r.json().path("id").asText();
                ackedJobs.put(id, true);
                awaitDone(at, id);
            } catch (IOException down) {
                if (!(down instanceof ConnectException)) {
                    submitOutcomeUnknown.incrementAndGet(); // sent: created or not, the database says which
                }
                wireErrors.incrementAndGet();
                at++;
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Waits, at the server's poll interval, until the job is completed or failed (or the load stops). */
    private void awaitDone(int at, String id) throws InterruptedException {
        while (submitting) {
            try {
                String status = send(at, get("/api/jobs/" + id, customerKey)).json().path("status").asText();
                if ("completed".equals(status) || "failed".equals(status)) {
                    return;
                }
            } catch (IOException down) {
                wireErrors.incrementAndGet();
                at++;
            }
            Thread.sleep(pollMillis);
        }
    }

    private void withdrawals(Wallet w) {
        int at = wallets.indexOf(w);
        String account = Ledger.accountId("wallet", w.key().getAddress().toLowerCase());
        while (submitting) {
            try {
                long balance = send(at, get("/api/wallets/me", w.token())).json().path("balance_micro_usdc").asLong();
                if (balance >= WITHDRAWAL) {
                    String dest = WalletTestSupport.newKey().getAddress().toLowerCase();
                    long nonce = w.nonce().incrementAndGet();
                    long deadline = Instant.now().getEpochSecond() + 3600;
                    String body = WalletTestSupport.withdrawBody(WITHDRAWAL, dest, nonce, deadline,
                            WalletTestSupport.signWithdraw(w.key().getEcKeyPair(), LocalChain.CHAIN_ID, account, dest,
                                    WITHDRAWAL, nonce, deadline));
                    try {
                        Answer r = send(at, post("/api/payouts", w.token(), body));
                        if (r.status() != 202) {
                            throw new IllegalStateException("withdrawal: " + r.status() + " " + r.body());
                        }
                        String id = r.json().path("id").asText();
                        ackedPayouts.put(id, new AckedPayout(id, w.token(), dest, WITHDRAWAL));
                    } catch (IOException down) {
                        if (!(down instanceof ConnectException)) {
                            withdrawOutcomeUnknown.incrementAndGet();
                        }
                        throw down;
                    }
                }
                Thread.sleep(pollMillis);
            } catch (IOException down) {
                wireErrors.incrementAndGet();
                at++;
                pause();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    // ---- reading state back (the drain) ----

    /** The job's status as its customer reads it. */
    String jobStatus(String id) throws IOException, InterruptedException {
        return sendAnywhere(get("/api/jobs/" + id, customerKey)).json().path("status").asText();
    }

    /** The payout's status as its wallet reads it. */
    String payoutStatus(AckedPayout p) throws IOException, InterruptedException {
        return sendAnywhere(get("/api/payouts/" + p.id(), p.walletToken())).json().path("status").asText();
    }

    private Answer sendAnywhere(Req request) throws IOException, InterruptedException {
        IOException last = null;
        for (int i = 0; i < instances.size(); i++) {
            try {
                return send(i, request);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    // ---- HTTP ----

    private Wallet signIn(Credentials key, int at) throws IOException, InterruptedException {
        JsonNode nonce = send(at, post("/api/wallets/siwe/nonce", null, "{}")).json();
        String text = WalletTestSupport.siwe(key, nonce.path("domain").asText(), nonce.path("chain_id").asLong(),
                nonce.path("nonce").asText(), Instant.now()).format();
        Answer v = send(at, post("/api/wallets/siwe/verify", null, JSON.writeValueAsString(
                Map.of("message", text, "signature", WalletTestSupport.personalSign(key, text)))));
        if (v.status() != 200) {
            throw new IllegalStateException("SIWE sign-in: " + v.status() + " " + v.body());
        }
        return new Wallet(key, v.json().path("wallet_token").asText(), new AtomicLong());
    }

    private Answer send(int at, Req req) throws IOException {
        return CrashHttp.send(instances.get(Math.floorMod(at, instances.size())), req);
    }

    private void pause() {
        try {
            Thread.sleep(pollMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
