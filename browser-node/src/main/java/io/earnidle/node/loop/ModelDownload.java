package io.earnidle.node.loop;

/** A model download: the bytes so far and their running SHA-256 (kept when cancelled, to resume). */
final class ModelDownload {
    final String modelId;
    final String sha;
    final String url;
    long total;
    private byte[] buf;
    int loaded;
    Sha256 digest = new Sha256();
    int handle = -1;
    int failures;
    double openedAtMs;
    long loadedAtOpen;

    ModelDownload(String modelId, String sha, String url, long total) {
        this.modelId = modelId;
        this.sha = sha;
        this.url = url;
        this.total = total;
        this.buf = new byte[(int) Math.max(0, Math.min(total > 0 ? total : 1 << 20, Integer.MAX_VALUE - 16))];
    }

    void restart() {
        loaded = 0;
        digest = new Sha256();
    }

    void append(byte[] data) {
        long need = (long) loaded + data.length;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("model larger than 2 GiB");
        }
        if (need > buf.length) {
            byte[] b = new byte[(int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, (long) buf.length * 2))];
            System.arraycopy(buf, 0, b, 0, loaded);
            buf = b;
        }
        System.arraycopy(data, 0, buf, loaded, data.length);
        digest.update(data, 0, data.length);
        loaded += data.length;
    }

    byte[] bytes() {
        if (buf.length == loaded) {
            return buf;
        }
        byte[] b = new byte[loaded];
        System.arraycopy(buf, 0, b, 0, loaded);
        return b;
    }
}
