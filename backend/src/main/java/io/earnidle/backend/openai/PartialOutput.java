package io.earnidle.backend.openai;

import java.util.Optional;

/**
 * Where a streamed answer finds a job's output before its final result: the text a node reports while it decodes
 * ({@code POST /api/inference/progress} heartbeats). The backend passes {@code Leases::partialText}, the current
 * lease's stored progress; {@link #NONE} streams the accepted result only (docs/api.md, "Streaming").
 */
@FunctionalInterface
public interface PartialOutput {
    /** No partial output: streams carry the accepted result only. */
    PartialOutput NONE = jobId -> Optional.empty();

    /** The decoded text reported so far for {@code jobId} by the node that holds it now, if any. */
    Optional<String> textSoFar(String jobId);
}
