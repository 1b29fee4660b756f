package io.earnidle.node.loop;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Gets a job's model bytes: from the persistent cache when a copy there hashes right (a corrupt copy is deleted;
 * a cached copy costs nothing of the session's download budget), else downloaded (streamed, throttled to the bandwidth limit, resumed with Range after a network error, bounded by
 * the memory limit and the session's bandwidth cap, verified by SHA-256) and put into the cache. Hashing runs a
 * slice at a time under the CPU share. Everything runs in the loop's {@link Epoch}: a cancel makes its callbacks
 * no-ops, and a cancelled download is kept to resume.
 */
final class ModelFetcher {
    static final int MAX_DOWNLOAD_RETRIES = 5;
    static final int HASH_SLICE_BYTES = 1 << 20;

    /** What the fetcher tells the loop. */
    interface Listener {
        /** A "downloading" status with this message, now. */
        void status(String message);

        /** A "downloading" status about {@code modelId}, at most every so often unless {@code force}. */
        void progress(String modelId, boolean force);

        /** The verified bytes of the job's model ({@code how}: "from the cache" or "downloaded"). */
        void fetched(JobSpec job, byte[] data, String how);

        /** The job fails. */
        void failed(String error);

        /** The job is not run (a limit stands in the way): the loop gives it back. */
        void refused(String why);
    }

    private interface HashDone {
        void done(String hex);
    }

    private final NodeHost host;
    private final String apiBase;
    private final NodeLimits limits;
    private final DutyCycle duty;
    private final Epoch epoch;
    private final LongSupplier retryDelayMs;
    private final Listener listener;
    private JobSpec job;
    private ModelDownload download;
    private long sessionDownloadBytes;

    ModelFetcher(NodeHost host, String apiBase, NodeLimits limits, DutyCycle duty, Epoch epoch,
                 LongSupplier retryDelayMs, Listener listener) {
        this.host = host;
        this.apiBase = apiBase;
        this.limits = limits;
        this.duty = duty;
        this.epoch = epoch;
        this.retryDelayMs = retryDelayMs;
        this.listener = listener;
    }

    /** Bytes downloaded this session (all models, retries included). */
    long sessionDownloadBytes() {
        return sessionDownloadBytes;
    }

    /** The download in progress as the status reports it ({@code loaded_bytes}, {@code total_bytes}), or null. */
    Map<String, Object> downloadStatus() {
        if (download == null) {
            return null;
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("loaded_bytes", download.loaded);
        d.put("total_bytes", download.total > 0 ? download.total : null);
        return d;
    }

    /** The model being downloaded, or null. */
    String downloadingModelId() {
        return download == null ? null : download.modelId;
    }

    /** Bytes of the download kept to resume (0: none). */
    long partialBytes() {
        return download == null ? 0 : download.loaded;
    }

    /** Closes the stream in flight (the caller bumps the epoch); the bytes so far are kept to resume. */
    void cancel() {
        if (download != null && download.handle >= 0) {
            host.closeStream(download.handle);
            download.handle = -1;
        }
    }

    /** Fetches the model of {@code j} (the loop keeps no other model in memory meanwhile). */
    void fetch(JobSpec j) {
        job = j;
        long mem = limits.memoryBytes();
        if (mem >= 0 && j.modelSizeBytes() > mem) {
            listener.refused("model " + j.modelId() + " needs " + mb(j.modelSizeBytes())
                    + " MB, more than the memory limit of " + limits.memoryMb() + " MB: job not run");
            return;
        }
        String url = j.modelUrl().startsWith("http://") || j.modelUrl().startsWith("https://")
                ? j.modelUrl() : apiBase + (j.modelUrl().startsWith("/") ? "" : "/") + j.modelUrl();
        if (j.modelSha256() == null) {
            startDownload(j, url); // nothing to verify a cached copy with: always download
            return;
        }
        String key = cacheKey(apiBase, j.modelId(), j.modelSha256());
        int ep = epoch.current();
        listener.status("model " + j.modelId() + ": looking in the cache");
        host.cacheGet(key, (code, data, error) -> {
            if (!epoch.is(ep)) {
                return;
            }
            if (code != 200 || data == null) {
                startDownload(j, url);
                return;
            }
            verifyInSlices(data, ep, actual -> {
                if (actual.equals(j.modelSha256()) && (j.modelSizeBytes() < 0 || data.length == j.modelSizeBytes())) {
                    listener.fetched(j, data, "from the cache");
                } else {
                    listener.status("cached model " + j.modelId() + " is corrupt (sha256 " + actual
                            + "): deleting it and downloading again");
                    host.cacheDelete(key, ok -> {
                        if (epoch.is(ep)) {
                            startDownload(j, url);
                        }
                    });
                }
            });
        });
    }

    /** The persistent-cache key of a model file: one entry per model id and content hash. */
    static String cacheKey(String apiBase, String modelId, String sha256) {
        String base = apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase;
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < modelId.length(); i++) {
            char c = modelId.charAt(i);
            id.append(Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_' || c == '.' ? c : '_');
        }
        return base + NodeLoop.CACHE_PATH + id + "/" + sha256;
    }

    static long mb(long bytes) {
        return (bytes + 1_048_575) / 1_048_576;
    }

    /** SHA-256 of {@code data} a slice at a time (a big model would otherwise block control messages). */
    private void verifyInSlices(byte[] data, int ep, HashDone done) {
        Sha256 d = new Sha256();
        hashSlice(data, 0, d, ep, done);
    }

    private void hashSlice(byte[] data, int off, Sha256 d, int ep, HashDone done) {
        if (!epoch.is(ep)) {
            return;
        }
        double t0 = host.nowMs();
        int n = Math.min(HASH_SLICE_BYTES, data.length - off);
        d.update(data, off, n);
        double sleep = duty.afterSlice(t0, host.nowMs());
        if (off + n >= data.length) {
            done.done(d.hexDigest());
            return;
        }
        host.schedule((long) Math.ceil(sleep), () -> hashSlice(data, off + n, d, ep, done));
    }

    private void startDownload(JobSpec j, String url) {
        if (download == null || !download.modelId.equals(j.modelId())
                || (download.sha == null ? j.modelSha256() != null : !download.sha.equals(j.modelSha256()))) {
            download = new ModelDownload(j.modelId(), j.modelSha256(), url, j.modelSizeBytes());
        }
        ModelDownload d = download;
        long remaining = d.total > 0 ? d.total - d.loaded : 0;
        long cap = limits.sessionBytes();
        if (cap >= 0 && sessionDownloadBytes + remaining > cap) {
            listener.refused("model " + j.modelId() + " needs " + mb(remaining)
                    + " MB more, beyond the session's bandwidth cap of " + limits.bandwidthMbPerSession() + " MB ("
                    + mb(sessionDownloadBytes) + " MB used): job not run");
            return;
        }
        openDownload(d);
    }

    private void openDownload(ModelDownload d) {
        int ep = epoch.current();
        listener.progress(d.modelId, true);
        host.openStream(d.url, d.loaded, (code, handle, startOffset, totalBytes, error) -> {
            if (!epoch.is(ep)) {
                if (handle >= 0) {
                    host.closeStream(handle);
                }
                return;
            }
            if (code == 200 || code == 206) {
                if (code == 200 || startOffset != d.loaded) {
                    d.restart(); // the server sent the whole file (no Range support): start over
                }
                if (totalBytes > 0) {
                    if (d.total > 0 && totalBytes != d.total) {
                        host.closeStream(handle);
                        listener.failed("model size " + totalBytes + " bytes, expected " + d.total);
                        download = null;
                        return;
                    }
                    d.total = totalBytes;
                }
                long mem = limits.memoryBytes();
                if (mem >= 0 && d.total > mem) {
                    host.closeStream(handle);
                    download = null;
                    listener.refused("model " + d.modelId + " is " + mb(d.total) + " MB, more than the memory limit of "
                            + limits.memoryMb() + " MB: job not run");
                    return;
                }
                d.handle = handle;
                d.openedAtMs = host.nowMs();
                d.loadedAtOpen = d.loaded;
                readNext(d, ep);
            } else if (code == 0 && d.failures < MAX_DOWNLOAD_RETRIES) {
                retryDownload(d, ep, error);
            } else {
                download = null;
                listener.failed("model download failed: " + NodeLoop.describe(code, error));
            }
        });
    }

    private void retryDownload(ModelDownload d, int ep, String error) {
        d.failures++;
        d.handle = -1;
        listener.status("download interrupted (" + error + "), resuming at " + d.loaded + " bytes");
        host.schedule(retryDelayMs.getAsLong(), () -> {
            if (epoch.is(ep)) {
                openDownload(d);
            }
        });
    }

    private void readNext(ModelDownload d, int ep) {
        host.readStream(d.handle, (data, error) -> {
            if (!epoch.is(ep)) {
                return;
            }
            if (error != null) {
                host.closeStream(d.handle);
                if (d.failures < MAX_DOWNLOAD_RETRIES) {
                    retryDownload(d, ep, error);
                } else {
                    download = null;
                    listener.failed("model download failed: " + error);
                }
                return;
            }
            if (data == null) {
                d.handle = -1;
                finishDownload(d, ep);
                return;
            }
            try {
                if (d.total > 0 && d.loaded + (long) data.length > d.total) {
                    throw new IllegalStateException("the server sent more than the model's " + d.total + " bytes");
                }
                long mem = limits.memoryBytes();
                if (mem >= 0 && d.loaded + (long) data.length > mem) {
                    throw new IllegalStateException("model " + d.modelId + " is larger than the memory limit of "
                            + limits.memoryMb() + " MB");
                }
                d.append(data);
            } catch (RuntimeException e) {
                host.closeStream(d.handle);
                download = null;
                listener.failed(NodeLoop.message(e));
                return;
            }
            sessionDownloadBytes += data.length;
            long cap = limits.sessionBytes();
            if (cap >= 0 && sessionDownloadBytes > cap) {
                host.closeStream(d.handle);
                d.handle = -1;
                listener.refused("the session's bandwidth cap of " + limits.bandwidthMbPerSession()
                        + " MB is used up: download stopped");
                return;
            }
            listener.progress(d.modelId, false);
            double delay = 0;
            double rate = limits.bytesPerMs();
            if (rate > 0) {
                double due = d.openedAtMs + (d.loaded - d.loadedAtOpen) / rate;
                delay = due - host.nowMs();
            }
            if (delay > 0) {
                host.schedule((long) Math.ceil(delay), () -> {
                    if (epoch.is(ep)) {
                        readNext(d, ep);
                    }
                });
            } else {
                readNext(d, ep);
            }
        });
    }

    private void finishDownload(ModelDownload d, int ep) {
        if (d.total > 0 && d.loaded != d.total) {
            download = null;
            listener.failed("model download ended at " + d.loaded + " of " + d.total + " bytes");
            return;
        }
        byte[] data = d.bytes();
        String actual = d.digest.hexDigest();
        if (d.sha != null && !actual.equals(d.sha)) {
            download = null;
            listener.failed("model sha256 " + actual + " does not match " + d.sha);
            return;
        }
        listener.progress(d.modelId, true);
        download = null;
        if (d.sha != null) {
            host.cachePut(cacheKey(apiBase, d.modelId, d.sha), data, ok -> {
            });
        }
        if (epoch.is(ep)) {
            listener.fetched(job, data, "downloaded");
        }
    }
}
