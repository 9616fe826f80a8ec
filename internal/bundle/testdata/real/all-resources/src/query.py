# Databricks notebook source
print("query")
