package com.example.quotes;

// The function tests/infra/platforms/envbase.yaml names (com.example.quotes.Handler::handleRequest); never run.
public class Handler {
    public String handleRequest(Object event) {
        return "{\"quote\": \"written by Keel's tests\"}";
    }
}
