package io.earnidle.backend.openai;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/** A completion endpoint: {@code POST /} of its mount point runs {@link CompletionFlow} in this shape. */
abstract class CompletionEndpoint implements HttpService, CompletionFlow.Shape {
    final OpenAiApi api;
    private final String idPrefix;
    private final String object;
    private final String chunkObject;
    private final String promptParam;

    CompletionEndpoint(OpenAiApi api, String idPrefix, String object, String chunkObject, String promptParam) {
        this.api = api;
        this.idPrefix = idPrefix;
        this.object = object;
        this.chunkObject = chunkObject;
        this.promptParam = promptParam;
    }

    @Override
    public final String idPrefix() {
        return idPrefix;
    }

    @Override
    public final String object() {
        return object;
    }

    @Override
    public final String chunkObject() {
        return chunkObject;
    }

    @Override
    public final String promptParam() {
        return promptParam;
    }

    @Override
    public final void routing(HttpRules rules) {
        rules.post("/", api.flow().handler(this));
    }
}
